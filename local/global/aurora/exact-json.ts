/**
 * JSON.parse that never rounds a number: a number JavaScript cannot hold exactly (a fraction, or an integer
 * beyond 2^53) is returned as its decimal string, the way Rotor's database adapter returns `numeric` and `int8`.
 * Money in a missing-transaction report must read exactly as it was committed.
 */
export function parseJsonExactly(text: string): unknown {
  let quoted = '';
  let index = 0;
  while (index < text.length) {
    const character = text[index]!;
    if (character === '"') {
      const end = endOfString(text, index);
      quoted += text.slice(index, end);
      index = end;
    } else if (character === '-' || (character >= '0' && character <= '9')) {
      const token = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(index))![0];
      quoted += isExactInJavaScript(token) ? token : JSON.stringify(token);
      index += token.length;
    } else {
      quoted += character;
      index += 1;
    }
  }
  return JSON.parse(quoted);
}

function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
  return index + 1;
}

function isExactInJavaScript(token: string): boolean {
  return /^-?\d+$/.test(token) && Number.isSafeInteger(Number(token));
}
