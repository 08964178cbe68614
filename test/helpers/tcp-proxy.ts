import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 that a test can cut, as a network failure between an
 * application and its database would: `cut()` resets every open connection and refuses
 * new ones, `restore()` accepts connections again on the same port.
 */
export class TcpProxy {
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(targetPort: number) {
    this.#targetPort = targetPort;
  }

  /** Starts listening, on a free port the first time and on the same port after a cut. */
  async listen(): Promise<void> {
    const server = createServer((client) => this.#forward(client));

    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });

    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Resets every connection and stops listening. */
  async cut(): Promise<void> {
    const server = this.#server;

    this.#server = undefined;

    for (const socket of this.#sockets) {
      socket.resetAndDestroy();
    }

    if (server !== undefined) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Accepts connections again after {@link cut}. */
  async restore(): Promise<void> {
    if (this.#server === undefined) {
      await this.listen();
    }
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  #forward(client: Socket): void {
    const upstream = connect(this.#targetPort, "127.0.0.1");

    this.#track(client);
    this.#track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  }
}
