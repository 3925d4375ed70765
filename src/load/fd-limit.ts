import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** File descriptors kept free for files, the ledger, DNS, worker pipes and the like. */
const RESERVED_DESCRIPTORS = 64;

export interface DescriptorBudget {
  /** The soft RLIMIT_NOFILE, or null when it could not be read. */
  limit: number | null;
  /** Descriptors the process already holds. */
  open: number;
  /** How many sockets a burst may open without running into EMFILE. */
  sockets: number;
}

function softLimitFromProc(): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!match) return null;
    return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return null;
  }
}

function softLimitFromShell(): number | null {
  const result = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 });
  const text = result.stdout?.trim() ?? '';
  if (text === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const value = Number(text);
  return text !== '' && Number.isSafeInteger(value) ? value : null;
}

function openDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * Reads the open-file limit (Linux /proc first, `ulimit -n` elsewhere) so a burst can size its connection
 * pool under it: running into EMFILE mid-burst would turn our own limit into fake connection errors.
 */
export function readDescriptorBudget(): DescriptorBudget {
  const limit = softLimitFromProc() ?? softLimitFromShell();
  const open = openDescriptors();
  // An unreadable limit is treated as the common default of 1024, the safe side of the guess.
  const usable = (limit ?? 1024) - open - RESERVED_DESCRIPTORS;
  return { limit, open, sockets: Math.max(1, usable) };
}
