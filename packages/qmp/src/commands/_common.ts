import { z } from 'zod';

/** `{}`: the reply of commands that return nothing. */
export const emptyReply: z.ZodObject<{}, z.core.$loose> = z.looseObject({});

/** A QEMU `int`/`size` value. */
export const qint: z.ZodNumber = z.number().int();

/** QEMU's `RunState` (qapi/run-state.json, 7.2). */
export const RUN_STATES = [
  'debug',
  'inmigrate',
  'internal-error',
  'io-error',
  'paused',
  'postmigrate',
  'prelaunch',
  'finish-migrate',
  'restore-vm',
  'running',
  'save-vm',
  'shutdown',
  'suspended',
  'watchdog',
  'guest-panicked',
  'colo',
] as const;

/** One of {@link RUN_STATES}. */
export type RunState = (typeof RUN_STATES)[number];

/** `CpuInstanceProperties`: where a vCPU sits in the topology. */
export const cpuInstanceProperties: z.ZodObject<
  {
    'node-id': z.ZodOptional<z.ZodNumber>;
    'socket-id': z.ZodOptional<z.ZodNumber>;
    'die-id': z.ZodOptional<z.ZodNumber>;
    'cluster-id': z.ZodOptional<z.ZodNumber>;
    'core-id': z.ZodOptional<z.ZodNumber>;
    'thread-id': z.ZodOptional<z.ZodNumber>;
  },
  z.core.$loose
> = z.looseObject({
  'node-id': qint.optional(),
  'socket-id': qint.optional(),
  'die-id': qint.optional(),
  'cluster-id': qint.optional(),
  'core-id': qint.optional(),
  'thread-id': qint.optional(),
});
