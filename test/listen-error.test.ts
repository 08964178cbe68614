import { describe, expect, it } from "vitest";
import { describeListenError } from "../src/cli/listen-error.js";

/** Builds an error as `server.listen()` reports it, with a system error code. */
function systemError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

const hostAdvice =
  "set listen.host to an address of this machine, such as 127.0.0.1, or to 0.0.0.0 " +
  "for all of its IPv4 addresses";

describe("describeListenError", () => {
  it("advises on a port in use", () => {
    const error = systemError("EADDRINUSE", "listen EADDRINUSE: address already in use");

    expect(describeListenError(error, "127.0.0.1", 8787)).toBe(
      "Cannot listen on 127.0.0.1:8787: the port is already in use by another process " +
        "(EADDRINUSE); stop that process, or set listen.port to a free port (0 picks one)",
    );
  });

  it("advises on an address of another machine", () => {
    const error = systemError("EADDRNOTAVAIL", "listen EADDRNOTAVAIL: address not available");

    expect(describeListenError(error, "10.9.8.7", 8787)).toBe(
      "Cannot listen on 10.9.8.7:8787: 10.9.8.7 is not an address of this machine " +
        `(EADDRNOTAVAIL); ${hostAdvice}`,
    );
  });

  it("advises on an unknown host name", () => {
    const error = systemError("ENOTFOUND", "getaddrinfo ENOTFOUND sms.invalid");

    expect(describeListenError(error, "sms.invalid", 8787)).toBe(
      `Cannot listen on sms.invalid:8787: the host name sms.invalid was not found (ENOTFOUND); ${hostAdvice}`,
    );
  });

  it("advises on a privileged port", () => {
    const error = systemError("EACCES", "listen EACCES: permission denied 0.0.0.0:80");

    expect(describeListenError(error, "0.0.0.0", 80)).toBe(
      "Cannot listen on 0.0.0.0:80: permission denied (EACCES), because a port below 1024 " +
        "needs root or the CAP_NET_BIND_SERVICE capability; set listen.port to 1024 or above",
    );
  });

  it("reports other denied ports", () => {
    const error = systemError("EACCES", "listen EACCES: permission denied 0.0.0.0:8080");

    expect(describeListenError(error, "0.0.0.0", 8080)).toBe(
      "Cannot listen on 0.0.0.0:8080: listen EACCES: permission denied 0.0.0.0:8080; " +
        "check listen.host and listen.port in the configuration",
    );
  });

  it("brackets an IPv6 address", () => {
    const error = systemError("EADDRINUSE", "listen EADDRINUSE: address already in use");

    expect(describeListenError(error, "::1", 8787)).toMatch(/^Cannot listen on \[::1\]:8787: /);
  });

  it("keeps the message of other codes", () => {
    const error = systemError("EAFNOSUPPORT", "listen EAFNOSUPPORT: address family not supported");

    expect(describeListenError(error, "::1", 8787)).toBe(
      "Cannot listen on [::1]:8787: listen EAFNOSUPPORT: address family not supported; " +
        "check listen.host and listen.port in the configuration",
    );
  });
});
