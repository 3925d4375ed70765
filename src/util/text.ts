// C0 and C1 controls, DEL, and the two noncharacters: anything that could move the cursor, recolour the
// user's terminal or garble a log line when a merchant's text is printed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/g;
const CONTROL_BUT_TAB_AND_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffe\uffff]/g;

/**
 * Shows text that came from the merchant (or anyone who reaches its port) safely in a terminal: each
 * control character as \xNN. `keepTabsAndNewlines` leaves a multi-line body readable.
 */
export function escapeControlCharacters(text: string, { keepTabsAndNewlines = false } = {}): string {
  const pattern = keepTabsAndNewlines ? CONTROL_BUT_TAB_AND_NEWLINE : CONTROL;
  return text.replace(pattern, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
