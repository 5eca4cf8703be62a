import { expect } from "chai";
import { SettingsError } from "../../handlers/lib/config/settings.js";

/** The SettingsError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error("expected a SettingsError, nothing was thrown");
}
