// A refusal from the server, shown as the server worded it; a 403 says the admin lacks the right.
import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { ApiError } from './api';

export function ErrorBar({ error }: { error: unknown }) {
  const title = error instanceof ApiError ? (error.status === 403 ? 'You do not have access' : error.status === 401 ? 'Your sign-in is no longer valid' : `The server refused (${error.status})`) : 'Something went wrong';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error" role="alert" data-testid="error">
      <MessageBarBody>
        <MessageBarTitle>{title}</MessageBarTitle>
        {message}
      </MessageBarBody>
    </MessageBar>
  );
}
