// Validates a Slack message against the Block Kit limits file the project ships
// (test/fixtures/spec/slack/block-kit-limits.json, vendored with its sources in test/fixtures/spec/README.md).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface BlockKitLimits {
  surfaces: { message: { max_blocks: number } };
  blocks: {
    section: {
      text_min_length: number;
      text_max_length: number;
      fields_max_items: number;
      field_text_max_length: number;
      block_id_max_length: number;
    };
    header: { text_type: string; text_max_length: number };
    context: { elements_max_items: number };
  };
}

export function loadBlockKitLimits(): BlockKitLimits {
  const file = join(import.meta.dir, "..", "fixtures", "spec", "slack", "block-kit-limits.json");
  if (!existsSync(file)) throw new Error(`block-kit-limits.json not found at ${file}`);
  return JSON.parse(readFileSync(file, "utf8")) as BlockKitLimits;
}

/** Every limit violated by `message` (empty when it is valid). */
export function blockKitProblems(message: { text?: string; blocks?: any[] }, limits: BlockKitLimits): string[] {
  const p: string[] = [];
  const blocks = message.blocks ?? [];
  if (blocks.length > limits.surfaces.message.max_blocks) p.push(`${blocks.length} blocks > ${limits.surfaces.message.max_blocks}`);
  if (!message.text) p.push("no plain-text fallback `text`");
  blocks.forEach((b, i) => {
    const at = `block ${i} (${b.type})`;
    if (b.type === "header") {
      if (b.text?.type !== limits.blocks.header.text_type) p.push(`${at}: text type ${b.text?.type}`);
      if ((b.text?.text ?? "").length > limits.blocks.header.text_max_length) p.push(`${at}: header text ${b.text.text.length} chars`);
    } else if (b.type === "section") {
      const s = limits.blocks.section;
      if (!b.text && !b.fields) p.push(`${at}: neither text nor fields`);
      if (b.text && (b.text.text.length < s.text_min_length || b.text.text.length > s.text_max_length))
        p.push(`${at}: text ${b.text.text.length} chars`);
      if (b.fields) {
        if (b.fields.length > s.fields_max_items) p.push(`${at}: ${b.fields.length} fields`);
        b.fields.forEach((f: any, j: number) => {
          if (f.text.length > s.field_text_max_length || f.text.length < 1) p.push(`${at}: field ${j} ${f.text.length} chars`);
        });
      }
    } else if (b.type === "context") {
      if ((b.elements ?? []).length > limits.blocks.context.elements_max_items) p.push(`${at}: ${b.elements.length} elements`);
    } else if (b.type !== "divider") p.push(`${at}: unexpected block type`);
  });
  return p;
}
