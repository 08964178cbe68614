import { MemoryOptOutStore } from "../../src/consent/memory.js";
import type { OptOutStore } from "../../src/consent/types.js";
import { StoreError } from "../../src/errors.js";

/** Controls of a {@link controllableStore}. */
export interface StoreControls {
  store: OptOutStore;
  inner: MemoryOptOutStore;
  /** Every method rejects with a StoreError while true. */
  failing: boolean;
  /** Milliseconds each commit waits before it runs. */
  commitDelayMs: number;
  commits: number;
}

/** A memory store whose failures and commit latency a test can switch. */
export function controllableStore(): StoreControls {
  const inner = new MemoryOptOutStore();
  const controls: StoreControls = {
    inner,
    failing: false,
    commitDelayMs: 0,
    commits: 0,
    store: undefined as unknown as OptOutStore,
  };

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    if (controls.failing) {
      throw new StoreError("simulated store failure");
    }

    return run();
  };

  controls.store = {
    record: (event) => guard(() => inner.record(event)),
    isOptedOut: (phone, scope) => guard(() => inner.isOptedOut(phone, scope)),
    filterOptedOut: (phones, scope) => guard(() => inner.filterOptedOut(phones, scope)),
    getState: (phone, scope) => guard(() => inner.getState(phone, scope)),
    history: (phone) => guard(() => inner.history(phone)),
    listOptedOut: (scope) => inner.listOptedOut(scope),
    commitWebhook: async (receipt) => {
      controls.commits += 1;
      await new Promise((resolve) => setTimeout(resolve, controls.commitDelayMs));

      return guard(() => inner.commitWebhook(receipt));
    },
    close: () => inner.close(),
  };

  return controls;
}
