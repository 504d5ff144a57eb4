import { describe, expect, it } from 'vitest';
import { encodeAcrnArgv } from './argv.js';
import { AcrnError } from './errors.js';
import { createSandboxConfig } from './sandbox-config.js';

const UUID = 'a7ada506-1ab0-4b6b-a0da-e513ca9b8c2f';
const PARAMS =
  'tsc=reliable no_timer_check nohpet console=tty0 console=ttyS0 console=hvc0 log_buf_len=16M consoleblank=0 ' +
  'iommu=off i915.avail_planes_per_pipe=0x070F00 i915.enable_hangcheck=0 i915.nuclear_pageflip=1 ' +
  'i915.enable_guc_loading=0 i915.enable_guc_submission=0 i915.enable_guc=0 root=/dev/vda1 rw rootwait quiet ' +
  'systemd.show_status=false panic=1 maxcpus=8';

const base = {
  id: 'c0ffee',
  uuid: UUID,
  kernelPath: '/usr/share/kata/vmlinuz',
  imagePath: '/usr/share/kata/kata.img',
  consolePath: '/run/vc/vm/c0ffee/console.sock',
};

describe('createSandboxConfig', () => {
  it("builds Kata's ACRN command line: hostbridge 0, LPC 1, console 3, image 4, dummy pool 5..12", () => {
    const { argv, slots, deviceSlots } = encodeAcrnArgv(createSandboxConfig(base));
    expect(argv).toEqual([
      '-U',
      UUID,
      '-A',
      '-m',
      '2048M',
      '-s',
      '0:0,hostbridge',
      '-s',
      '1:0,lpc',
      '-lcom1,stdio',
      '-s',
      '3,virtio-console,@socket:console0=/run/vc/vm/c0ffee/console.sock',
      '-s',
      '4,virtio-blk,/usr/share/kata/kata.img',
      '-s',
      '5,virtio-blk,nodisk',
      '-s',
      '6,virtio-blk,nodisk',
      '-s',
      '7,virtio-blk,nodisk',
      '-s',
      '8,virtio-blk,nodisk',
      '-s',
      '9,virtio-blk,nodisk',
      '-s',
      '10,virtio-blk,nodisk',
      '-s',
      '11,virtio-blk,nodisk',
      '-s',
      '12,virtio-blk,nodisk',
      '-k',
      '/usr/share/kata/vmlinuz',
      '-B',
      PARAMS,
      'sandbox-c0ffee',
    ]);
    expect(deviceSlots).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(slots.entries()).toEqual([
      { index: 0, slot: 4 },
      { index: 1, slot: 5 },
      { index: 2, slot: 6 },
      { index: 3, slot: 7 },
      { index: 4, slot: 8 },
      { index: 5, slot: 9 },
      { index: 6, slot: 10 },
      { index: 7, slot: 11 },
      { index: 8, slot: 12 }, // Kata's `Index >= 8` check made this last dummy unusable
    ]);
  });

  it('network devices appended later take the next slots', () => {
    const config = createSandboxConfig({
      ...base,
      blockPoolSize: 2,
      memoryMiB: 512,
      debug: true,
      maxVcpus: 4,
    });
    config.devices.push({
      kind: 'virtio-net',
      type: 'macvtap',
      ifName: 'macvtap0',
      macAddress: '02:00:00:00:00:09',
    });
    const { argv } = encodeAcrnArgv(config);
    expect(argv.slice(0, 5)).toEqual(['-U', UUID, '-A', '-m', '512M']);
    expect(argv).toContain('7,virtio-net,macvtap0,mac=02:00:00:00:00:09');
    expect(argv.indexOf('7,virtio-net,macvtap0,mac=02:00:00:00:00:09')).toBe(
      argv.indexOf('6,virtio-blk,nodisk') + 2,
    );
    expect(argv.at(-2)).toMatch(/ debug systemd\.show_status=true .* maxcpus=4$/);
  });

  it('an empty pool leaves only the image', () => {
    expect(encodeAcrnArgv(createSandboxConfig({ ...base, blockPoolSize: 0 })).slots.entries()).toEqual([
      { index: 0, slot: 4 },
    ]);
  });

  it.each([
    [{ id: 'a/b' }, ['id']],
    [{ id: '' }, ['id']],
    [{ uuid: 'x' }, ['uuid']],
    [{ maxVcpus: 9 }, ['maxVcpus']],
    [{ blockPoolSize: 28 }, ['blockPoolSize']],
    [{ imagePath: '' }, ['imagePath']],
  ])('rejects %j', (patch, path) => {
    try {
      createSandboxConfig({ ...base, ...patch });
      expect.unreachable();
    } catch (e) {
      expect(AcrnError.is(e) && e.code).toBe('ACRN_INVALID_CONFIG');
      expect(AcrnError.is(e) && e.path).toEqual(path);
    }
  });

  it('rejects a comma in the image path when encoding', () => {
    expect(() => encodeAcrnArgv(createSandboxConfig({ ...base, imagePath: '/a,b.img' }))).toThrow(
      expect.objectContaining({ code: 'ACRN_INVALID_CONFIG', path: ['devices', 3, 'filePath'] }),
    );
  });
});
