import { InvalidPhoneNumberError, quoteRedacted } from "../errors.js";

/**
 * Creates the error for an input that is not a valid phone number. Its message quotes the
 * input with {@link quoteRedacted}, so that a webhook value in it is masked and short
 * when the message is logged or sent back. `error.input` keeps the text as given.
 */
export function invalidPhoneNumber(
  input: string,
  detail: string,
  options?: { cause?: unknown },
): InvalidPhoneNumberError {
  const error = new InvalidPhoneNumberError(input, detail, options);

  // The constructor quotes the input whole, so its message is replaced. The stack is
  // captured again, because its first line repeats the message.
  error.message = `Invalid phone number ${quoteRedacted(input)}: ${detail}`;
  Error.captureStackTrace(error, invalidPhoneNumber);

  return error;
}
