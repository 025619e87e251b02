// An action's button as the server allows it: enabled, or disabled with the server's reason beside it
// (GET /latchkey/v1/users/{id}/actions), the reason tied to the button for screen readers.
import { Button, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { ActionInfo } from '../api';

const useStyles = makeStyles({
  action: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, maxWidth: '280px' },
  reason: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 },
});

export function ActionButton(props: { name: string; label: string; info: ActionInfo | undefined; primary?: boolean; extraDisabled?: string; onClick: () => void }) {
  const s = useStyles();
  const reason = props.info === undefined ? 'This action is not available.' : !props.info.allowed ? (props.info.reason ?? 'This action is not available.') : props.extraDisabled;
  const reasonId = `${props.name}-reason`;
  return (
    <div className={s.action}>
      <Button id={`action-${props.name}`} appearance={props.primary ? 'primary' : 'secondary'} disabled={reason !== undefined} aria-describedby={reason !== undefined ? reasonId : undefined} onClick={props.onClick}>
        {props.label}
      </Button>
      {reason !== undefined && (
        <Text className={s.reason} id={reasonId}>
          {reason}
        </Text>
      )}
    </div>
  );
}
