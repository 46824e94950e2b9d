import { describe, expect, it } from 'vitest';
import { fromNestLogger, fromPinoLogger, silentLogger } from '../src/logger.js';

describe('logger adapters', () => {
  it('silent logger accepts every level', () => {
    expect(() => {
      silentLogger.debug('d');
      silentLogger.info('i', { a: 1 });
      silentLogger.warn('w');
      silentLogger.error('e');
    }).not.toThrow();
  });

  it('fromNestLogger maps info to log and passes fields second', () => {
    const calls: unknown[][] = [];
    const nest = {
      log: (...args: unknown[]) => calls.push(['log', ...args]),
      warn: (...args: unknown[]) => calls.push(['warn', ...args]),
      error: (...args: unknown[]) => calls.push(['error', ...args]),
      debug: (...args: unknown[]) => calls.push(['debug', ...args]),
    };
    const logger = fromNestLogger(nest);
    logger.info('started', { sourceId: 'cam1' });
    logger.warn('slow');
    logger.error('failed', { code: 'X' });
    logger.debug('tick', { n: 1 });
    expect(calls).toEqual([
      ['log', 'started', { sourceId: 'cam1' }],
      ['warn', 'slow'],
      ['error', 'failed', { code: 'X' }],
      ['debug', 'tick', { n: 1 }],
    ]);
  });

  it('fromNestLogger skips debug when the logger has none', () => {
    const calls: unknown[] = [];
    const logger = fromNestLogger({ log: () => calls.push('log'), warn: () => calls.push('warn'), error: () => calls.push('error') });
    logger.debug('tick');
    expect(calls).toEqual([]);
  });

  it('fromPinoLogger passes fields first and message second', () => {
    const calls: unknown[][] = [];
    const record = (level: string) => (fields: object, message: string) => calls.push([level, fields, message]);
    const logger = fromPinoLogger({ debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') });
    logger.info('started', { sourceId: 'cam1' });
    logger.error('failed');
    expect(calls).toEqual([
      ['info', { sourceId: 'cam1' }, 'started'],
      ['error', {}, 'failed'],
    ]);
  });
});
