import { describe, expect, it } from 'vitest';
import { isPythonDict, parsePythonLiteral, PythonLiteralError } from '../models/python-literal.js';
import { imgszFromLiteral, namesFromLiteral, readUltralyticsMetadata } from '../models/ultralytics-metadata.js';

describe('parsePythonLiteral', () => {
  it.each([
    ['single-quoted string', "'person'", 'person'],
    ['double-quoted string with apostrophe', '"o\'clock"', "o'clock"],
    ['escaped quote in single quotes', "'it\\'s'", "it's"],
    ['backslash and newline escapes', "'a\\\\b\\nc'", 'a\\b\nc'],
    ['hex escape', "'caf\\xe9'", 'café'],
    ['unicode escape', "'\\u00e9t\\u00e9'", 'été'],
    ['long unicode escape', "'\\U0001F600'", '😀'],
    ['octal escape', "'\\101'", 'A'],
    ['unknown escape keeps the backslash', "'a\\qb'", 'a\\qb'],
    ['integer', '640', 640],
    ['negative float', '-1.5e3', -1500],
    ['digit separators', '1_000', 1000],
    ['True', 'True', true],
    ['False', 'False', false],
    ['None', 'None', null],
  ])('reads %s', (_case, text, expected) => {
    expect(parsePythonLiteral(text)).toEqual(expected);
  });

  it('reads lists and tuples as arrays', () => {
    expect(parsePythonLiteral('[640, 480]')).toEqual([640, 480]);
    expect(parsePythonLiteral('(1, (2, 3),)')).toEqual([1, [2, 3]]);
    expect(parsePythonLiteral('[]')).toEqual([]);
  });

  it('reads a dict with keys in source order', () => {
    const value = parsePythonLiteral("{1: 'b', 0: \"a\", 'k': [True, None]}");
    expect(isPythonDict(value)).toBe(true);
    if (!isPythonDict(value)) return;
    expect(value.entries).toEqual([
      [1, 'b'],
      [0, 'a'],
      ['k', [true, null]],
    ]);
  });

  it('allows whitespace and newlines between tokens', () => {
    expect(parsePythonLiteral(' {\n 0 : \'a\' ,\n 1:\'b\' }\n')).toEqual({ kind: 'dict', entries: [[0, 'a'], [1, 'b']] });
  });

  it.each([
    ['a function call', "__import__('os')"],
    ['an unterminated string', "'abc"],
    ['text after the literal', '[1] [2]'],
    ['a missing comma', '[1 2]'],
    ['a list as dict key', '{[1]: 2}'],
    ['empty text', '   '],
    ['a bare sign', '-'],
    ['a short hex escape', "'\\x4'"],
  ])('rejects %s', (_case, text) => {
    expect(() => parsePythonLiteral(text)).toThrow(PythonLiteralError);
  });

  it('reports the character position of the error', () => {
    try {
      parsePythonLiteral('[1, 2 x]');
      expect.unreachable();
    } catch (error) {
      expect((error as PythonLiteralError).position).toBe(6);
    }
  });
});

describe('namesFromLiteral', () => {
  it('orders dict names by class id', () => {
    expect(namesFromLiteral(parsePythonLiteral("{1: 'bicycle', 0: 'person', 2: 'car'}"))).toEqual(['person', 'bicycle', 'car']);
  });

  it('accepts a list of names', () => {
    expect(namesFromLiteral(parsePythonLiteral("['person', 'bicycle']"))).toEqual(['person', 'bicycle']);
  });

  it.each([
    ['a gap in the class ids', "{0: 'a', 2: 'b'}"],
    ['a string key', "{'0': 'a'}"],
    ['a repeated class id', "{0: 'a', 0: 'b'}"],
    ['a number as name', '{0: 5}'],
    ['a plain string', "'person'"],
  ])('rejects %s', (_case, text) => {
    expect(() => namesFromLiteral(parsePythonLiteral(text))).toThrow();
  });
});

describe('imgszFromLiteral', () => {
  it('reads [height, width]', () => {
    expect(imgszFromLiteral(parsePythonLiteral('[480, 640]'))).toEqual([480, 640]);
  });

  it('expands a single size to a square', () => {
    expect(imgszFromLiteral(parsePythonLiteral('320'))).toEqual([320, 320]);
  });

  it('rejects three sizes', () => {
    expect(() => imgszFromLiteral(parsePythonLiteral('[1, 2, 3]'))).toThrow();
  });
});

describe('readUltralyticsMetadata', () => {
  it('reads names, imgsz, task and end2end', () => {
    const metadata = readUltralyticsMetadata(
      new Map([
        ['names', "{0: 'person', 1: 'bicycle'}"],
        ['imgsz', '[640, 480]'],
        ['task', 'detect'],
        ['end2end', 'False'],
      ]),
    );
    expect(metadata.names).toEqual(['person', 'bicycle']);
    expect(metadata.imgsz).toEqual([640, 480]);
    expect(metadata.task).toBe('detect');
    expect(metadata.end2end).toBe(false);
    expect(metadata.problems).toEqual([]);
  });

  it('reports unreadable values instead of throwing', () => {
    const metadata = readUltralyticsMetadata(new Map([['names', '{0: person}']]));
    expect(metadata.names).toBeUndefined();
    expect(metadata.problems).toHaveLength(1);
    expect(metadata.problems[0]).toContain('"names"');
  });

  it('leaves absent keys undefined', () => {
    const metadata = readUltralyticsMetadata(new Map());
    expect(metadata).toEqual({ names: undefined, imgsz: undefined, task: undefined, end2end: undefined, problems: [] });
  });
});
