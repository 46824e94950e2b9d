/**
 * A reader for the Python literals that exporters write into ONNX metadata with `str(value)`,
 * such as Ultralytics' `names` (`{0: 'person', 1: 'bicycle'}`) and `imgsz` (`[640, 640]`).
 * It parses data only and never evaluates code.
 */

/** A value a Python literal can hold. Dicts keep their keys' order and may have number keys. */
export type PythonValue =
  | string
  | number
  | boolean
  | null
  | readonly PythonValue[]
  | PythonDict;

/** A Python dict literal: its entries in source order. Keys are strings, numbers, booleans or null. */
export interface PythonDict {
  readonly kind: 'dict';
  readonly entries: readonly (readonly [key: PythonValue, value: PythonValue])[];
}

/** Raised for text that is not a supported literal; `position` is the 0-based character offset. */
export class PythonLiteralError extends Error {
  override readonly name = 'PythonLiteralError';
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at character ${position}`);
    this.position = position;
  }
}

/** Returns true when `value` is a parsed dict. */
export function isPythonDict(value: PythonValue): value is PythonDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as PythonDict).kind === 'dict';
}

/**
 * Parses one Python literal: dicts, lists and tuples (both become arrays), strings in single or
 * double quotes with backslash escapes (`r`, `b` and `f` prefixes are not supported), integers,
 * floats, `True`, `False` and `None`. Surrounding whitespace is allowed, trailing text is not.
 *
 * @throws PythonLiteralError when the text is not a literal of that subset.
 * @example
 * parsePythonLiteral("{0: 'person', 1: \"o'clock\"}");
 * // { kind: 'dict', entries: [[0, 'person'], [1, "o'clock"]] }
 */
export function parsePythonLiteral(text: string): PythonValue {
  const reader = new LiteralReader(text);
  const value = reader.readValue();
  reader.skipWhitespace();
  if (!reader.atEnd()) throw new PythonLiteralError('Unexpected text after the literal', reader.position);
  return value;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

class LiteralReader {
  position = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  skipWhitespace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.position] ?? '')) this.position += 1;
  }

  readValue(): PythonValue {
    this.skipWhitespace();
    const char = this.text[this.position];
    if (char === undefined) throw new PythonLiteralError('Unexpected end of text', this.position);
    if (char === '{') return this.readDict();
    if (char === '[') return this.readSequence('[', ']');
    if (char === '(') return this.readSequence('(', ')');
    if (char === "'" || char === '"') return this.readString();
    if (/[-+0-9.]/.test(char)) return this.readNumber();
    return this.readKeyword();
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) {
      throw new PythonLiteralError(`Expected ${JSON.stringify(char)}`, this.position);
    }
    this.position += 1;
  }

  /** Reads comma-separated items up to `close`, allowing a trailing comma as Python does. */
  private readItems<T>(close: string, readItem: () => T): T[] {
    const items: T[] = [];
    this.skipWhitespace();
    while (this.text[this.position] !== close) {
      items.push(readItem());
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        this.skipWhitespace();
      } else if (this.text[this.position] !== close) {
        throw new PythonLiteralError(`Expected "," or ${JSON.stringify(close)}`, this.position);
      }
    }
    this.position += 1;
    return items;
  }

  private readDict(): PythonDict {
    this.expect('{');
    const entries = this.readItems('}', () => {
      const key = this.readValue();
      if (typeof key === 'object' && key !== null) {
        throw new PythonLiteralError('Dict keys must be strings, numbers, booleans or None', this.position);
      }
      this.skipWhitespace();
      this.expect(':');
      return [key, this.readValue()] as const;
    });
    return { kind: 'dict', entries };
  }

  private readSequence(open: string, close: string): PythonValue[] {
    this.expect(open);
    return this.readItems(close, () => this.readValue());
  }

  private readString(): string {
    const quote = this.text[this.position] as string;
    const start = this.position;
    this.position += 1;
    let result = '';
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined || char === '\n') throw new PythonLiteralError('Unterminated string', start);
      this.position += 1;
      if (char === quote) return result;
      result += char === '\\' ? this.readEscape() : char;
    }
  }

  /** Reads the escape after a backslash. Unknown escapes keep the backslash, as Python does. */
  private readEscape(): string {
    const char = this.text[this.position];
    if (char === undefined) throw new PythonLiteralError('Unterminated escape', this.position);
    this.position += 1;
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) return simple;
    if (char === 'x') return this.readCodePoint(2);
    if (char === 'u') return this.readCodePoint(4);
    if (char === 'U') return this.readCodePoint(8);
    if (/[0-7]/.test(char)) {
      let digits = char;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.position] ?? '')) {
        digits += this.text[this.position];
        this.position += 1;
      }
      return String.fromCodePoint(Number.parseInt(digits, 8));
    }
    return `\\${char}`;
  }

  private readCodePoint(length: number): string {
    const digits = this.text.slice(this.position, this.position + length);
    if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) {
      throw new PythonLiteralError(`Expected ${length} hexadecimal digits in escape`, this.position);
    }
    const codePoint = Number.parseInt(digits, 16);
    if (codePoint > 0x10ffff) throw new PythonLiteralError('Escape is beyond U+10FFFF', this.position);
    this.position += length;
    return String.fromCodePoint(codePoint);
  }

  private readNumber(): number {
    const match = /^[-+]?(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.position));
    const literal = match?.[0] ?? '';
    if (!/\d/.test(literal)) throw new PythonLiteralError('Invalid number', this.position);
    this.position += literal.length;
    return Number(literal.replaceAll('_', ''));
  }

  private readKeyword(): boolean | null {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.position));
    const word = match?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.position += word.length;
      return word === 'None' ? null : word === 'True';
    }
    throw new PythonLiteralError(
      word === undefined ? 'Unexpected character' : `Unsupported name ${JSON.stringify(word)}`,
      this.position,
    );
  }
}
