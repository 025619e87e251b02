// A page that fails while it is drawn (a lazily loaded page whose code no longer loads, after the server
// was updated or the connection dropped; data of a shape the page did not expect) would otherwise take the
// whole portal with it: React unmounts everything and leaves a blank page. The failure is shown in the
// page's place instead, with a reload; the header and its navigation stay usable, and the next page
// (a new `key`) starts afresh.
import { Component, type ReactNode } from 'react';
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';

export class PageErrorBoundary extends Component<{ children: ReactNode }, { error?: unknown }> {
  override state: { error?: unknown } = {};

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    const e = this.state.error;
    return (
      <MessageBar intent="error" role="alert" id="pageError" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>This page could not be shown</MessageBarTitle>
          {e instanceof Error ? e.message : String(e)}. Reload the page, or choose another page above.
        </MessageBarBody>
        <MessageBarActions>
          <Button id="reloadPage" onClick={() => location.reload()}>
            Reload
          </Button>
        </MessageBarActions>
      </MessageBar>
    );
  }
}
