import { encodeQemuArgv } from '@vmm/argv';
import { describe, expect, it } from 'vitest';
import { parseHypervisorConfig } from './config.js';
import { serializeParams } from './params.js';
import { sandboxPaths } from './paths.js';
import { composeQemu, defaultCpuModel, sandboxArch, sandboxKernelParams } from './qemu-compose.js';

const host = { accel: 'tcg' as const, memMiB: 4096, nested: false };
const base = { arch: 'amd64', kernelPath: '/k', initrdPath: '/i' } as const;

describe('kernel parameters in Kata order', () => {
  it('arch params, quiet, panic=1, nr_cpus=<max>, then the user params', () => {
    const c = parseHypervisorConfig({ ...base, defaultMaxVcpus: 8, kernelParams: 'console=ttyS0 foo=bar' });
    const line = serializeParams(sandboxKernelParams(sandboxArch(c, host), c), '=').join(' ');
    expect(line).toBe(
      'tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 ' +
        'i8042.noaux=1 noreplace-smp reboot=k console=hvc0 console=hvc1 cryptomgr.notests net.ifnames=0 ' +
        'pci=lastbus=0 iommu=off quiet panic=1 nr_cpus=8 console=ttyS0 foo=bar',
    );
  });
  it('debug swaps quiet for debug; an image adds root and systemd params', () => {
    const c = parseHypervisorConfig({ arch: 'amd64', kernelPath: '/k', imagePath: '/img', debug: true });
    const line = serializeParams(sandboxKernelParams(sandboxArch(c, host), c), '=').join(' ');
    expect(line).toMatch(
      / iommu=off root=\/dev\/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4 debug systemd.show_status=true systemd.log_level=debug panic=1 nr_cpus=240$/,
    );
  });
});

describe('composeQemu', () => {
  it('builds a command line QEMU takes, with QMP, pid file, and a logged serial console', () => {
    const paths = sandboxPaths('/run/vmm', 'sb1');
    const c = parseHypervisorConfig({
      ...base,
      hypervisorMachineType: 'q35',
      pcieRootPort: 2,
      memorySize: 256,
      defaultMaxVcpus: 4,
    });
    const { config, rootPorts } = composeQemu(c, {
      id: 'sb1',
      paths,
      host,
      uuid: '00000000-0000-4000-8000-000000000001',
    });
    expect(rootPorts.map((r) => r.id)).toEqual(['rp0', 'rp1']);
    const argv = encodeQemuArgv(config).argv;
    const joined = argv.join(' ');
    expect(joined).toContain('-machine q35,accel=tcg');
    expect(joined).toContain('-cpu qemu64');
    expect(joined).toContain('-qmp unix:/run/vmm/sb1/qmp.sock,server=on,wait=off');
    expect(joined).toContain('-pidfile /run/vmm/sb1/pid');
    expect(joined).toContain(
      '-chardev socket,id=charserial0,path=/run/vmm/sb1/console.sock,server=on,wait=off,logfile=/run/vmm/sb1/console.log,logappend=on -serial chardev:charserial0',
    );
    expect(joined).toContain('-smp 1,cores=1,threads=1,sockets=4,maxcpus=4');
    expect(joined).toContain('-m 256M,slots=10,maxmem=5120M');
    expect(argv).toContain('-no-user-config');
    expect(argv).toContain('-nodefaults');
  });

  it('escapes commas in paths it writes itself', () => {
    const paths = sandboxPaths('/tmp/a,b', 'sb');
    const { config } = composeQemu(parseHypervisorConfig(base), { id: 'sb', paths, host });
    expect(encodeQemuArgv(config).argv.join(' ')).toContain('path=/tmp/a,,b/sb/console.sock');
  });

  it('appends hypervisor params as token pairs, file-backed memory for templates, incoming for restore', () => {
    const paths = sandboxPaths('/run/vmm', 'sb');
    const c = parseHypervisorConfig({
      ...base,
      hypervisorParams: [{ key: '-overcommit', value: 'cpu-pm=off' }],
      bootToBeTemplate: true,
      memoryPath: '/dev/shm/tpl',
    });
    const { config } = composeQemu(c, { id: 'sb', paths, host, incoming: true });
    const argv = encodeQemuArgv(config).argv;
    expect(argv.slice(-2)).toEqual(['-overcommit', 'cpu-pm=off']);
    expect(argv.join(' ')).toContain('mem-path=/dev/shm/tpl');
    expect(argv.join(' ')).toContain('-incoming defer');
  });

  it('picks the CPU model: host with KVM, qemu64/max under TCG, or the config', () => {
    const c = parseHypervisorConfig(base);
    expect(defaultCpuModel(c, 'kvm')).toBeUndefined();
    expect(defaultCpuModel(c, 'tcg')).toBe('qemu64');
    expect(defaultCpuModel(parseHypervisorConfig({ ...base, arch: 'arm64' }), 'tcg')).toBe('max');
    expect(defaultCpuModel(parseHypervisorConfig({ ...base, cpuModel: 'Skylake-Client' }), 'tcg')).toBe(
      'Skylake-Client',
    );
  });

  it('refuses what the arch rules refuse, naming the field', () => {
    const c = parseHypervisorConfig({ ...base, hypervisorMachineType: 'pc', iommu: true });
    expect(() => sandboxArch(c, host)).toThrow(
      expect.objectContaining({ code: 'SANDBOX_INVALID_CONFIG', path: 'options.iommu' }),
    );
  });
});
