/** foldByKey: the rule both CDC sinks fold an epoch by. */
import { describe, expect, it } from "vitest";
import { type ChangeRecord, foldByKey } from "../../../connectors/shared/changelog.ts";

const c = (kind: ChangeRecord["kind"], id: number, v: string): ChangeRecord => ({ kind, row: { id, v } });
const byId = (x: ChangeRecord) => String(x.row.id);

describe("foldByKey", () => {
  it("keeps each key's last change: upserts for +I/+U, deletes for -D and for a -U with no +U after it", () => {
    const { upserts, deletes } = foldByKey(
      [
        c("+I", 1, "a"),
        c("-U", 1, "a"),
        c("+U", 1, "a2"), // an update: the after image wins
        c("+I", 2, "b"),
        c("-U", 2, "b"), // the after image was filtered away: the row left the table
        c("+I", 3, "c"),
        c("-D", 3, "c"),
        c("-D", 4, "d"),
        c("+I", 4, "d2"), // deleted, then inserted again
      ],
      byId,
    );
    expect(upserts).toEqual([c("+U", 1, "a2"), c("+I", 4, "d2")]);
    expect(deletes).toEqual([c("-U", 2, "b"), c("-D", 3, "c")]);
  });
});
