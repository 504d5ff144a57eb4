import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `system_powerdown`: Press the ACPI power button (the guest decides; `POWERDOWN` follows). */
export const systemPowerdown = defineCommand({
  name: 'system_powerdown',
  summary: 'Press the ACPI power button (the guest decides; `POWERDOWN` follows).',
  args: undefined,
  reply: emptyReply,
});
