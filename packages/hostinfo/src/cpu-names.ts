/**
 * Names for the numeric CPU identities arm64 and s390x print instead of a model name. Small,
 * well-known subsets (as `lscpu` prints them); unknown values fall back to the raw numbers.
 */

/** arm64 `CPU implementer` (MIDR bits 31:24) → vendor. */
export const ARM_IMPLEMENTERS: Readonly<Record<string, string>> = {
  '0x41': 'ARM',
  '0x42': 'Broadcom',
  '0x43': 'Cavium',
  '0x46': 'Fujitsu',
  '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA',
  '0x50': 'APM',
  '0x51': 'Qualcomm',
  '0x61': 'Apple',
  '0xc0': 'Ampere',
};

/** arm64 `implementer/part` → core name. */
export const ARM_PARTS: Readonly<Record<string, string>> = {
  '0x41/0xd03': 'Cortex-A53',
  '0x41/0xd04': 'Cortex-A35',
  '0x41/0xd05': 'Cortex-A55',
  '0x41/0xd07': 'Cortex-A57',
  '0x41/0xd08': 'Cortex-A72',
  '0x41/0xd09': 'Cortex-A73',
  '0x41/0xd0a': 'Cortex-A75',
  '0x41/0xd0b': 'Cortex-A76',
  '0x41/0xd0c': 'Neoverse-N1',
  '0x41/0xd0d': 'Cortex-A77',
  '0x41/0xd40': 'Neoverse-V1',
  '0x41/0xd41': 'Cortex-A78',
  '0x41/0xd44': 'Cortex-X1',
  '0x41/0xd46': 'Cortex-A510',
  '0x41/0xd47': 'Cortex-A710',
  '0x41/0xd48': 'Cortex-X2',
  '0x41/0xd49': 'Neoverse-N2',
  '0x41/0xd4f': 'Neoverse-V2',
  '0x43/0x0af': 'ThunderX2 99xx',
  '0x46/0x001': 'A64FX',
  '0x48/0xd01': 'Kunpeng-920',
  '0x50/0x000': 'X-Gene',
  '0xc0/0xac3': 'Ampere-1',
  '0xc0/0xac4': 'Ampere-1a',
};

/** s390x `machine` type → model. */
export const S390_MACHINES: Readonly<Record<string, string>> = {
  '2964': 'IBM z13',
  '2965': 'IBM z13s',
  '3906': 'IBM z14',
  '3907': 'IBM z14 ZR1',
  '8561': 'IBM z15',
  '8562': 'IBM z15 T02',
  '3931': 'IBM z16',
  '3932': 'IBM z16 A02',
};
