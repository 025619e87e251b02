// Closing a Fluent dialog the way Fluent closes it: `open` goes false first, and the caller hears of it
// (and may unmount it) only once its exit is over, with the focus given back to what opened the dialog.
// Fluent gives the focus back only to a DialogTrigger; and while the focus stays nowhere (on a button
// removed with the dialog), the aria-hidden it put on the rest of the page stays, hiding the whole portal
// from screen readers.
import { useRef, useState } from 'react';

/**
 * `given`: the opener, for a dialog that takes another's place (a preview after its form): the focus there
 * is on a button of the dialog it replaces, which goes away with it.
 */
export function useClosing<R>(onClosed: (result: R) => void, given?: HTMLElement | null) {
  const [open, setOpen] = useState(true);
  // what had the focus when the dialog was first rendered, before the dialog moved it inside
  const [opener] = useState(() => given ?? (document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null));
  const result = useRef<R | undefined>(undefined);
  return {
    open,
    /** what the focus goes back to, for a dialog that takes this one's place */
    opener,
    close: (r: R) => {
      result.current = r;
      setOpen(false);
    },
    surfaceMotion: {
      onMotionFinish: (_: unknown, d: { direction: 'enter' | 'exit' }) => {
        if (d.direction !== 'exit') return;
        if (opener?.isConnected) opener.focus();
        onClosed(result.current as R);
      },
    },
  };
}
