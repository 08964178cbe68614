/**
 * The message of a server that cannot listen, with advice that fits the error code.
 *
 * @module
 */

const hostAdvice =
  "set listen.host to an address of this machine, such as 127.0.0.1, or to 0.0.0.0 " +
  "for all of its IPv4 addresses";

/** Explains an error code of `server.listen()` and names the option to change. */
function adviseOnListenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === "EADDRINUSE") {
    return (
      "the port is already in use by another process (EADDRINUSE); stop that process, " +
      "or set listen.port to a free port (0 picks one)"
    );
  }

  if (error.code === "EADDRNOTAVAIL") {
    return `${host} is not an address of this machine (EADDRNOTAVAIL); ${hostAdvice}`;
  }

  if (error.code === "ENOTFOUND") {
    return `the host name ${host} was not found (ENOTFOUND); ${hostAdvice}`;
  }

  if (error.code === "EACCES" && port > 0 && port < 1024) {
    return (
      "permission denied (EACCES), because a port below 1024 needs root or the " +
      "CAP_NET_BIND_SERVICE capability; set listen.port to 1024 or above"
    );
  }

  return `${error.message}; check listen.host and listen.port in the configuration`;
}

/**
 * Builds the message of an error from `server.listen(port, host)`, such as
 * `Cannot listen on 127.0.0.1:8787: the port is already in use by another process …`.
 */
export function describeListenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
): string {
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

  return `Cannot listen on ${address}: ${adviseOnListenError(error, host, port)}`;
}
