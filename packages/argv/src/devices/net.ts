/** Tap-based virtio networking (govmm `NetDevice`): `-netdev tap,... -device driver=virtio-net-<t>,...`. */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions } from '../option-string.js';
import {
  ccwProps,
  disableModernProp,
  resolveTransport,
  romfileProp,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { hostFd, hostPath, macAddress, nonEmptyText, pciAddr, qemuId } from '../values.js';

/**
 * Net device types. `tap` and `macvtap` are what govmm accepts; `ipvtap` and `vethtap` (dead branches in
 * govmm, whose `Valid()` rejects them) are encoded as tap, as govmm intended.
 */
export const NET_TYPES = ['tap', 'macvtap', 'ipvtap', 'vethtap'] as const;

/** A tap/macvtap network interface. */
export const netDeviceSchema = z
  .strictObject({
    kind: z.literal('net'),
    /** Backend type. */
    type: z.enum(NET_TYPES),
    /** Netdev id. */
    id: qemuId,
    /** Host interface name (`ifname=`, at most 15 bytes as IFNAMSIZ allows); required unless `fds` are given. */
    ifName: nonEmptyText
      .refine((s) => Buffer.byteLength(s) <= 15, 'must be at most 15 bytes (IFNAMSIZ)')
      .optional(),
    /** PCI bus to plug into (`bus=`). @default none */
    bus: nonEmptyText.optional(),
    /** PCI slot on the bus: decimal as in govmm (`"3"` -> `addr=3`... written hex), or `0x3`/`0x3.1`. */
    addr: pciAddr.optional(),
    /** `downscript=` (only without fds). @default none */
    downScript: hostPath.optional(),
    /** `script=` (only without fds). @default none */
    script: hostPath.optional(),
    /** Open tap queue fds in the launching process (`fds=`); more than one enables multiqueue. */
    fds: z.array(hostFd).optional(),
    /** Open /dev/vhost-net fds (`vhostfds=`), one per queue; needs `vhost: true`. */
    vhostFds: z.array(hostFd).optional(),
    /** In-kernel vhost-net (`vhost=on`). @default false */
    vhost: z.boolean().optional(),
    /** Guest MAC (`mac=`). @default QEMU picks one */
    macAddress: macAddress.optional(),
    ...transportFields,
  })
  .superRefine((d, c) => {
    const nFds = d.fds?.length ?? 0;
    if (d.ifName === undefined && nFds === 0) {
      c.addIssue({ code: 'custom', path: ['ifName'], message: 'ifName is required unless fds are given' });
    }
    if (d.type === 'macvtap' && nFds === 0) {
      c.addIssue({ code: 'custom', path: ['fds'], message: 'macvtap can only be connected through fds' });
    }
    if ((d.vhostFds?.length ?? 0) > 0 && d.vhost !== true) {
      c.addIssue({ code: 'custom', path: ['vhostFds'], message: 'vhostFds need vhost: true' });
    }
    if (nFds > 0 && (d.script !== undefined || d.downScript !== undefined)) {
      c.addIssue({
        code: 'custom',
        path: [d.script !== undefined ? 'script' : 'downScript'],
        message: 'scripts are not run for fds',
      });
    }
  });
/** Config of a tap network interface. */
export type NetDeviceConfig = z.infer<typeof netDeviceSchema>;

/** govmm writes a decimal `Addr` as hex; `0x..` forms pass through. */
export function formatPciAddr(addr: string): string {
  if (addr.startsWith('0x')) return addr;
  const [slot, fn] = addr.split('.');
  return `${Number(slot).toString(16)}${fn === undefined ? '' : `.${fn}`}`;
}

/**
 * `-netdev tap,id=ID[,vhost=on[,vhostfds=a:b]](,fds=x:y | ,ifname=IF[,downscript=][,script=])
 *  -device driver=virtio-net-<t>,netdev=ID[,mac=M][,bus=B][,addr=A][,disable-modern=true]
 *  [,mq=on[,vectors=2N+2 (pci)]][,romfile][,iommu_platform,devno]`. Vhost fds are numbered before tap fds.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeNetDevice(d: NetDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  const vhostFds = d.vhost === true && d.vhostFds !== undefined ? ctx.allocFds(d.vhostFds, 'vhostFds') : [];
  const fds = d.fds !== undefined && d.fds.length > 0 ? ctx.allocFds(d.fds, 'fds') : [];
  const netdev = buildOptions('tap', [
    ['id', d.id],
    d.vhost === true && ['vhost', 'on'],
    vhostFds.length > 0 && ['vhostfds', vhostFds.join(':')],
    fds.length > 0 && ['fds', fds.join(':')],
    fds.length === 0 && ['ifname', d.ifName ?? ''],
    fds.length === 0 && d.downScript !== undefined && ['downscript', d.downScript],
    fds.length === 0 && d.script !== undefined && ['script', d.script],
  ]);
  const device = buildOptions(undefined, [
    ['driver', virtioDriverName('virtio-net', t)],
    ['netdev', d.id],
    d.macAddress !== undefined && ['mac', d.macAddress],
    d.bus !== undefined && ['bus', d.bus],
    d.addr !== undefined && ['addr', formatPciAddr(d.addr)],
    disableModernProp(t, d),
    fds.length > 0 && ['mq', 'on'],
    fds.length > 0 && t === 'pci' && ['vectors', 2 * fds.length + 2],
    romfileProp(t, d),
    ...ccwProps(t, d, ctx, true),
  ]);
  return ['-netdev', netdev, '-device', device];
}
