import { describe, expect, it } from "vitest";
import { failedOutcome } from "../src/cli/send.js";
import { ProviderError } from "../src/errors.js";

const request = { to: "+12025550143", body: "hi" };

function refusal(reason: ProviderError["reason"], httpStatus?: number): ProviderError {
  return new ProviderError("test refusal", { provider: "twilio", reason, httpStatus });
}

describe("send outcome of provider errors", () => {
  it("unreachable provider is an error", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const error = new ProviderError("Twilio API request failed", {
      provider: "twilio",
      reason: "transient",
      cause,
    });
    const outcome = failedOutcome(error, request);

    expect(outcome.status).toBe("error");
    expect(outcome.message).toContain("could not be reached");
    expect(outcome.message).toContain("then retry");
  });

  it("timed-out send is not confirmed", () => {
    const outcome = failedOutcome(refusal("transient"), request);

    expect(outcome.status).toBe("error");
    expect(outcome.message).toContain("Not confirmed: twilio sent no complete response");
    expect(outcome.message).toContain("check the provider's message log before sending it again");
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
