// The Prompt API's inputs as tandem takes them: prompts validated and canonicalised
// into chat messages (the explainer's "validating and canonicalizing a prompt", text
// only), the expected inputs and outputs checked, and a responseConstraint turned
// into a response_format, a check of the answer and a line guiding the model.
import { domError } from "./prompt-errors.js";

const ROLES = ["system", "user", "assistant"];
const TYPES = ["text", "image", "audio", "tool-call", "tool-response"];

/** Check `expected` (expectedInputs or expectedOutputs): a TypeError for an unknown
 * type, a RangeError for a malformed language tag; the reason tandem cannot take it
 * (anything but text), or null. */
export function unsupportedExpectation(expected = []) {
  for (const { type, languages = [] } of expected) {
    if (!TYPES.includes(type)) throw new TypeError(`unknown content type "${type}"`);
    Intl.getCanonicalLocales(languages);
    if (type !== "text") return `tandem's models take and give text only, not ${type}`;
  }
  return null;
}

/** `input` (a string or messages) as chat messages. `appended` says whether the
 * session holds input already (then a system message is a TypeError). Errors as the
 * explainer's: a SyntaxError for an empty list or a misplaced `prefix`, a
 * NotSupportedError for content other than text and for a prefix (tandem cannot
 * continue an assistant message). */
export function canonical(input, appended) {
  if (typeof input === "string") return [{ role: "user", content: input }];
  if (!Array.isArray(input)) throw new TypeError("a prompt is a string or a list of messages");
  if (input.length === 0) throw domError("SyntaxError", "a prompt needs at least one message");
  return input.map((message, i) => {
    const { role, content, prefix = false } = message ?? {};
    if (!ROLES.includes(role)) throw new TypeError(`unknown role "${role}"`);
    if (prefix && (role !== "assistant" || i !== input.length - 1)) {
      throw domError("SyntaxError", "only the last message, an assistant's, may be a prefix");
    }
    if (prefix) throw domError("NotSupportedError", "tandem cannot continue a prefix message");
    if (role === "system" && (appended || i > 0)) {
      throw new TypeError("a system message must come first, before any other input");
    }
    return { role, content: text(content, role) };
  });
}

/** A message's content as one string (contiguous text parts joined, as the explainer
 * collapses them). */
function text(content, role) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new TypeError("content is a string or a list of parts");
  return content
    .map(({ type, value }) => {
      if (!TYPES.includes(type)) throw new TypeError(`unknown content type "${type}"`);
      if (type !== "text") {
        throw domError("NotSupportedError", `${role} content of type ${type} is not supported`);
      }
      if (typeof value !== "string") throw new TypeError("a text part's value is a string");
      return value;
    })
    .join("");
}

/** What a prompt's `responseConstraint` and `omitResponseConstraintInput` mean for the
 * request: `response_format` (a JSON schema, enforced while decoding), `pattern` (a
 * RegExp, checked on the whole answer) and `guidance` (the text added to the last
 * message unless omitted). A TypeError for anything else. */
export function constraint({ responseConstraint, omitResponseConstraintInput = false }) {
  if (responseConstraint === undefined || responseConstraint === null) {
    if (omitResponseConstraintInput) {
      throw new TypeError("omitResponseConstraintInput needs a responseConstraint");
    }
    return {};
  }
  const guide = (line) => (omitResponseConstraintInput ? undefined : line);
  if (responseConstraint instanceof RegExp) {
    return {
      pattern: responseConstraint,
      guidance: guide(`Answer with text matching the regular expression ${responseConstraint}`),
    };
  }
  if (typeof responseConstraint !== "object" || Array.isArray(responseConstraint)) {
    throw new TypeError("a responseConstraint is a JSON schema object or a RegExp");
  }
  const schema = JSON.stringify(responseConstraint);
  return {
    response_format: {
      type: "json_schema",
      json_schema: { name: "response", schema: responseConstraint, strict: true },
    },
    guidance: guide(`Answer in JSON matching this JSON schema: ${schema}`),
  };
}

/** `messages` with the constraint's guidance added to the last one. */
export function guided(messages, { guidance }) {
  if (!guidance) return messages;
  const last = messages.at(-1);
  return [...messages.slice(0, -1), { ...last, content: `${last.content}\n\n${guidance}` }];
}

/** The answer as the prompt gives it: with a RegExp, trimmed of surrounding white
 * space, and a SyntaxError unless the pattern matches all of it. */
export function checked(answer, { pattern }) {
  if (!pattern) return answer;
  const trimmed = answer.trim();
  const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ""));
  if (!whole.test(trimmed)) {
    throw domError("SyntaxError", `the answer does not match ${pattern}: ${JSON.stringify(trimmed)}`);
  }
  return trimmed;
}
