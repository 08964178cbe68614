import { describe, expect, it } from "vitest";
import { failedOutcome } from "../src/cli/send.js";
import { ProviderError } from "../src/errors.js";

const request = { to: "+12025550143", body: "hi" };

function refusal(reason: ProviderError["reason"], httpStatus?: number): ProviderError {
  return new ProviderError("test refusal", { provider: "twilio", reason, httpStatus });
}

describe("send outcome of provider errors", () => {
  it("unreachable provider is an error", () => {
    const outcome = failedOutcome(refusal("transient"), request);

    expect(outcome.status).toBe("error");
    expect(outcome.message).toContain("could not be reached");
  });

  it("provider 503 is a rejection", () => {
    expect(failedOutcome(refusal("transient", 503), request).status).toBe("rejected");
  });

  it("invalid recipient is a rejection", () => {
    expect(failedOutcome(refusal("invalid-recipient", 400), request).status).toBe("rejected");
  });

  it("provider opt-out is opted out", () => {
    expect(failedOutcome(refusal("opted-out", 400), request).status).toBe("opted-out");
  });
});
