// The details pane of a log row: a drawer at the end of the page, closed by its button or Escape.
import type { ReactNode } from 'react';
import { Button, DrawerBody, DrawerHeader, DrawerHeaderTitle, OverlayDrawer, makeStyles, tokens } from '@fluentui/react-components';

export const useDetailStyles = makeStyles({
  h: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: `${tokens.spacingVerticalL} 0 ${tokens.spacingVerticalXS}` },
  wrap: { overflowWrap: 'anywhere' },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
});

export function LogDrawer({ title, id, onClose, children }: { title: string; id: string; onClose: () => void; children: ReactNode }) {
  return (
    <OverlayDrawer open position="end" size="medium" id={id} aria-labelledby={`${id}Title`} onOpenChange={(_, d) => !d.open && onClose()}>
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
      <DrawerBody>{children}</DrawerBody>
    </OverlayDrawer>
  );
}
