import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('hides passwords, secret object data and HMP password commands, and copies', () => {
    const msg = {
      execute: 'object-add',
      arguments: { 'qom-type': 'secret', id: 's0', data: 'hunter2', format: 'raw' },
      id: 1,
    };
    const out = redactSecrets(msg) as typeof msg;
    expect(out.arguments.data).toBe(REDACTED);
    expect(out.arguments.id).toBe('s0');
    expect(msg.arguments.data).toBe('hunter2');
    expect(redactSecrets({ execute: 'set_password', arguments: { protocol: 'vnc', password: 'x' } })).toEqual(
      {
        execute: 'set_password',
        arguments: { protocol: 'vnc', password: REDACTED },
      },
    );
    expect(
      redactSecrets({
        execute: 'human-monitor-command',
        arguments: { 'command-line': 'set_password vnc x' },
      }),
    ).toEqual({ execute: 'human-monitor-command', arguments: { 'command-line': REDACTED } });
    expect(redactSecrets({ event: 'STOP', data: { a: [{ password: 'p' }] } })).toEqual({
      event: 'STOP',
      data: { a: [{ password: REDACTED }] },
    });
  });

  it('leaves ordinary frames alone', () => {
    const m = { return: { status: 'running', data: 'not secret' }, id: 3 };
    expect(redactSecrets(m)).toEqual(m);
  });
});
