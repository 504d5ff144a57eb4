import { describe, expect, it } from 'vitest';
import { explainArgv } from './explain.js';

describe('explainArgv', () => {
  it('splits options, switches and option-string pairs', () => {
    expect(
      explainArgv(['-nodefaults', '-device', 'virtio-blk-pci,drive=d,,0', '-append', 'a=b,c', '-S']),
    ).toEqual([
      { option: '-nodefaults', value: undefined, pairs: undefined, summary: 'no default devices' },
      {
        option: '-device',
        value: 'virtio-blk-pci,drive=d,,0',
        pairs: [
          ['driver', 'virtio-blk-pci'],
          ['drive', 'd,0'],
        ],
        summary: 'a guest device',
      },
      { option: '-append', value: 'a=b,c', pairs: undefined, summary: 'kernel command line' },
      { option: '-S', value: undefined, pairs: undefined, summary: 'start with the CPUs stopped' },
    ]);
  });
});
