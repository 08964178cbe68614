import { describe, expect, it } from "vitest";
import {
  type GenericProviderOptions,
  generic,
  renderTemplate,
  resolveGenericOptions,
} from "../providers/generic/index.js";
import { isConfigError } from "../src/errors.js";

function baseOptions(): GenericProviderOptions {
  return {
    from: "+14155550199",
    send: {
      url: "https://api.example.com/v1/messages",
      body: { to: "{{to}}", text: "{{body}}" },
      messageIdPath: "id",
    },
    webhooks: {
      inbound: { from: "from", text: "text" },
      signature: {
        type: "hmac",
        secret: "s",
        header: "x-signature",
        algorithm: "sha256",
        encoding: "hex",
      },
    },
  };
}

function configError(options: unknown, configPath?: string) {
  try {
    resolveGenericOptions(options as GenericProviderOptions, configPath);
  } catch (error) {
    expect(isConfigError(error)).toBe(true);

    return error as { path: string; message: string };
  }

  throw new Error("expected a ConfigError");
}

function withChange(change: (options: GenericProviderOptions) => void) {
  const options = structuredClone(baseOptions());

  change(options);

  return options;
}

describe("generic options", () => {
  it("rejects a query marker without a URL signature", () => {
    const options = withChange((changed) => {
      changed.webhooks.optOutReport = {
        match: { field: "event", value: "stopped", in: "query" },
        from: "urn",
      };
    });

    const error = configError(options, "providers.generic.acme");

    expect(error.path).toBe("providers.generic.acme.webhooks.optOutReport.match.in");
    expect(error.message).toContain('set signature.signed to "url+body"');
  });

  it("applies defaults", () => {
    const resolved = resolveGenericOptions(baseOptions());

    expect(resolved.name).toBe("generic");
    expect(resolved.send.method).toBe("POST");
    expect(resolved.send.format).toBe("json");
    expect(resolved.send.timeoutMs).toBe(15_000);
    expect(resolved.webhooks.format).toBe("json");
    expect(resolved.webhooks.response).toEqual({
      status: 200,
      contentType: "text/plain; charset=utf-8",
      body: "",
    });
    expect(resolved.webhooks.signature).toMatchObject({
      signed: "body",
      prefix: "",
      separator: "",
      toleranceSeconds: 300,
      secretEncoding: "utf8",
    });
  });

  it("normalises the sender", () => {
    const resolved = resolveGenericOptions({ ...baseOptions(), from: "14155550199" });

    expect(resolved.from).toBe("+14155550199");
  });

  it("lowercases status keys", () => {
    const resolved = resolveGenericOptions({
      ...baseOptions(),
      statuses: { DELIVRD: "delivered" },
    });

    expect(resolved.statuses).toEqual({ delivrd: "delivered" });
  });

  it("names the path of an invalid URL", () => {
    const error = configError(
      withChange((options) => {
        options.send.url = "ftp://example.com";
      }),
      "providers.generic.acme",
    );

    expect(error.path).toBe("providers.generic.acme.send.url");
    expect(error.message).toContain("http or https URL");
  });

  it("rejects an unknown option", () => {
    const options = withChange((value) => {
      (value.send as unknown as Record<string, unknown>).mesageIdPath = "id";
    });
    const error = configError(options);

    expect(error.path).toBe("generic.send");
    expect(error.message).toContain('"mesageIdPath"');
  });

  it("rejects an unknown placeholder", () => {
    const error = configError(
      withChange((options) => {
        options.send.body = { to: "{{to}}", nested: { text: "{{text}}" } };
      }),
    );

    expect(error.path).toBe("generic.send.body.nested.text");
    expect(error.message).toContain("text");
  });

  it("rejects nested form values", () => {
    const error = configError(
      withChange((options) => {
        options.send.format = "form";
        options.send.body = { to: "{{to}}", list: ["{{body}}"] };
      }),
    );

    expect(error.path).toBe("generic.send.body.list");
  });

  it("rejects a rule matching everything", () => {
    const error = configError(
      withChange((options) => {
        options.send.errors = [{ reason: "opted-out" }];
      }),
    );

    expect(error.path).toBe("generic.send.errors.0");
  });

  it("needs a code path for codes", () => {
    const error = configError(
      withChange((options) => {
        options.send.errors = [{ code: "X", reason: "opted-out" }];
      }),
    );

    expect(error.path).toBe("generic.send.errors.0.codePath");
  });

  it("rejects an unknown reason", () => {
    const error = configError(
      withChange((options) => {
        options.send.errors = [{ status: 400, reason: "gone" as never }];
      }),
    );

    expect(error.path).toBe("generic.send.errors.0.reason");
    expect(error.message).toContain("opted-out");
  });

  it("needs a timestamp header", () => {
    const error = configError(
      withChange((options) => {
        options.webhooks.signature = {
          type: "hmac",
          secret: "s",
          header: "x-signature",
          algorithm: "sha256",
          encoding: "hex",
          signed: "timestamp+body",
        };
      }),
    );

    expect(error.path).toBe("generic.webhooks.signature.timestampHeader");
  });

  it("needs insecure for no signature", () => {
    const error = configError(
      withChange((options) => {
        options.webhooks.signature = { type: "none" } as never;
      }),
    );

    expect(error.path).toBe("generic.webhooks.signature.insecure");
  });

  it("accepts an explicit insecure flag", () => {
    const options = withChange((value) => {
      value.webhooks.signature = { type: "none", insecure: true };
    });

    expect(resolveGenericOptions(options).webhooks.signature.type).toBe("none");
  });

  it("needs a recipient without from", () => {
    const error = configError(
      withChange((options) => {
        options.from = undefined;
      }),
    );

    expect(error.path).toBe("generic.webhooks.inbound.to");
  });

  it("rejects an invalid name", () => {
    const error = configError({ ...baseOptions(), name: "Acme SMS" });

    expect(error.path).toBe("generic.name");
  });

  it("constructs through generic()", () => {
    const provider = generic({ ...baseOptions(), name: "acme" });

    expect(provider.name).toBe("acme");
    expect(provider.defaultSender).toBe("+14155550199");
  });
});

describe("generic body template", () => {
  it("substitutes values as text", () => {
    const rendered = renderTemplate(
      { to: "{{to}}", text: "{{ body }}", note: "to {{to}}", count: 1, flag: null },
      { to: "+14155550100", body: '"}, "admin": true, {"' },
    );

    expect(rendered).toEqual({
      to: "+14155550100",
      text: '"}, "admin": true, {"',
      note: "to +14155550100",
      count: 1,
      flag: null,
    });
    expect(JSON.parse(JSON.stringify(rendered)).admin).toBeUndefined();
  });

  it("leaves out values without a value", () => {
    const rendered = renderTemplate(
      { to: "{{to}}", from: "{{from}}", items: ["{{to}}", "{{statusCallbackUrl}}"] },
      { to: "+14155550100" },
    );

    expect(rendered).toEqual({ to: "+14155550100", items: ["+14155550100"] });
  });

  it("does not expand placeholders in values", () => {
    const rendered = renderTemplate({ text: "{{body}}" }, { body: "{{to}} $& $1", to: "x" });

    expect(rendered).toEqual({ text: "{{to}} $& $1" });
  });

  it("keeps a __proto__ key", () => {
    const template = JSON.parse('{"__proto__": "{{to}}"}') as Record<string, string>;
    const rendered = renderTemplate(template, { to: "+14155550100" });

    expect(Object.hasOwn(rendered, "__proto__")).toBe(true);
    expect(JSON.stringify(rendered)).toBe('{"__proto__":"+14155550100"}');
  });
});
