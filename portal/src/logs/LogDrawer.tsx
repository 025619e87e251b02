// The details pane of a log row: a drawer at the end of the page, closed by its button or Escape.
import { type ReactNode, useEffect, useRef } from 'react';
import { Button, DrawerBody, DrawerHeader, DrawerHeaderTitle, OverlayDrawer, makeStyles, tokens } from '@fluentui/react-components';

export const useDetailStyles = makeStyles({
  h: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: `${tokens.spacingVerticalL} 0 ${tokens.spacingVerticalXS}` },
  wrap: { overflowWrap: 'anywhere' },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
});

/**
 * Kept mounted and opened or closed by `open`: closing through Fluent's own path gives the focus back to
 * what opened the pane and lifts the aria-hidden it put on the page (unmounting it open would not).
 */
export function LogDrawer({ open, title, id, onClose, children }: { open: boolean; title: string; id: string; onClose: () => void; children: ReactNode }) {
  // the focus goes back to the row that opened the pane: what had it when the pane was asked to open
  // (read while rendering, before the pane's own effects move the focus into it)
  const opener = useRef<HTMLElement | null>(null);
  const wasOpen = useRef(false);
  if (open && !wasOpen.current) opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  wasOpen.current = open;
  useEffect(() => {
    if (!open) opener.current?.focus();
  }, [open]);
  return (
    <OverlayDrawer open={open} position="end" size="medium" id={id} aria-labelledby={`${id}Title`} onOpenChange={(_, d) => !d.open && onClose()}>
      <DrawerHeader>
        <DrawerHeaderTitle
          id={`${id}Title`}
          action={
            <Button appearance="subtle" id="closeDetails" aria-label="Close the details" onClick={onClose}>
              Close
            </Button>
          }
        >
          {title}
        </DrawerHeaderTitle>
      </DrawerHeader>
      {/* focusable, so the pane scrolls from the keyboard */}
      <DrawerBody tabIndex={0} role="region" aria-labelledby={`${id}Title`}>
        {children}
      </DrawerBody>
    </OverlayDrawer>
  );
}
