/** The seven missing-modality conditions (spec §2.5), checked by name. */
import { ConfigError } from "../errors.js";
import { CONDITIONS, type Condition } from "./types.js";

export function isCondition(name: string): name is Condition {
  return (CONDITIONS as readonly string[]).includes(name);
}

/** `name` as a Condition, or a ConfigError that lists the valid ones. */
export function checkCondition(name: string): Condition {
  if (!isCondition(name)) {
    throw new ConfigError(
      `unknown condition '${name}'; expected one of ${CONDITIONS.join(", ")} (the available modalities)`,
    );
  }
  return name;
}

/** A comma-separated list such as `a,t,v,atv`, each checked, without duplicates, in the order given. */
export function parseConditionList(list: string): Condition[] {
  const names = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new ConfigError(`no conditions given; expected a comma-separated list of ${CONDITIONS.join(", ")}`);
  const out: Condition[] = [];
  for (const n of names) {
    const c = checkCondition(n);
    if (out.includes(c)) throw new ConfigError(`condition '${c}' is listed twice in '${list}'`);
    out.push(c);
  }
  return out;
}
