// What the playbook's pages share: their layout, a visible focus ring on the headings that take the focus
// when a step opens, and the print stylesheet (only the report prints).
import { makeStaticStyles, makeStyles, tokens } from '@fluentui/react-components';

export const usePrintStyles = makeStaticStyles(
  '@media print { body * { visibility: hidden !important; } #playbookReport, #playbookReport * { visibility: visible !important; } #playbookReport { position: absolute; left: 0; top: 0; width: 100%; } #playbookReport button { display: none !important; } }',
);

export const usePlaybookStyles = makeStyles({
  back: { display: 'inline-block', marginBottom: tokens.spacingVerticalS },
  heading: {
    display: 'block',
    margin: `${tokens.spacingVerticalM} 0 ${tokens.spacingVerticalS}`,
    fontSize: tokens.fontSizeBase500,
    fontWeight: tokens.fontWeightSemibold,
    lineHeight: tokens.lineHeightBase500,
    outlineStyle: 'none',
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '2px', borderRadius: tokens.borderRadiusSmall },
  },
  sub: { fontSize: tokens.fontSizeBase300, fontWeight: tokens.fontWeightSemibold, margin: `${tokens.spacingVerticalL} 0 ${tokens.spacingVerticalXS}` },
  stepper: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, listStyleType: 'none', padding: 0, margin: `${tokens.spacingVerticalS} 0`, color: tokens.colorNeutralForeground2 },
  stepperItem: { padding: `${tokens.spacingVerticalXXS} ${tokens.spacingHorizontalS}`, borderBottom: `2px solid ${tokens.colorNeutralStroke2}` },
  stepperCurrent: { color: tokens.colorNeutralForeground1, fontWeight: tokens.fontWeightSemibold, borderBottom: `2px solid ${tokens.colorBrandStroke1}` },
  fieldset: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: tokens.spacingHorizontalM, margin: 0, minWidth: 0 },
  legend: { fontWeight: tokens.fontWeightSemibold, padding: `0 ${tokens.spacingHorizontalXS}` },
  stepRow: { display: 'flex', flexDirection: 'column', marginBottom: tokens.spacingVerticalS },
  effect: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200, marginLeft: '32px', overflowWrap: 'anywhere' },
  nested: { marginLeft: '32px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalXS, maxWidth: '420px' },
  error: { color: tokens.colorPaletteRedForeground1, display: 'block', marginTop: tokens.spacingVerticalXS },
  buttons: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalL, alignItems: 'center' },
  reason: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 },
  section: { marginTop: tokens.spacingVerticalM },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  item: { overflowWrap: 'anywhere', marginBottom: tokens.spacingVerticalXXS },
  table: { width: '100%', borderCollapse: 'collapse', tableLayout: 'fixed', fontSize: tokens.fontSizeBase200 },
  th: { textAlign: 'left', fontWeight: tokens.fontWeightSemibold, padding: tokens.spacingVerticalXS, borderBottom: `1px solid ${tokens.colorNeutralStroke1}` },
  td: { padding: tokens.spacingVerticalXS, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, overflowWrap: 'anywhere', verticalAlign: 'top' },
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalXS },
  steps: { listStyleType: 'none', padding: 0, margin: 0 },
  stepCard: { borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, padding: `${tokens.spacingVerticalS} 0`, overflowWrap: 'anywhere' },
  stepHead: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center' },
  detail: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200, marginTop: tokens.spacingVerticalXXS },
  secret: { fontFamily: tokens.fontFamilyMonospace, maxWidth: '360px', width: '100%' },
  p: { margin: `0 0 ${tokens.spacingVerticalXS}` },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
});
