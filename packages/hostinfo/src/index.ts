/**
 * `@vmm/hostinfo`: host facts for VM managers (memory, CPU, nested virtualization, KVM, vhost,
 * hugepages, QEMU) and the host-check model shared by `vmm check` and `@vmm/acrn`.
 */
export {
  HOST_CHECK_STATUSES,
  type HostCheck,
  type HostCheckReport,
  HostCheckReportSchema,
  HostCheckSchema,
  type HostCheckStatus,
  toHostCheckReport,
} from './host-check.js';
