// Writes the files the collection uploads into the directory given (newman's --working-dir): media
// synthesised here, as the Rust tests do (tests/api/fixtures.rs), so no binary file is committed.
// The server decides a file's type by its first bytes (docs/api.md §1.11).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
mkdirSync(dir, { recursive: true });

// A 1×1 PNG.
const png = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082",
  "hex",
);
// A JPEG signature and JFIF header followed by filler: enough for the content check.
const jpeg = Buffer.concat([Buffer.from("ffd8ffe000104a46494600", "hex"), Buffer.alloc(289, 0x11)]);
// An MP4: an `ftyp` box (brand isom) and an `mdat` box of filler; it has no duration to read (0).
const ftyp = Buffer.concat([Buffer.from("00000018", "hex"), Buffer.from("ftypisom"), Buffer.from("00000200", "hex"), Buffer.from("isommp41")]);
const payload = Buffer.alloc(64 * 1024, 0x42);
const mdatHeader = Buffer.alloc(8);
mdatHeader.writeUInt32BE(8 + payload.length, 0);
mdatHeader.write("mdat", 4);
const mp4 = Buffer.concat([ftyp, mdatHeader, payload]);

writeFileSync(join(dir, "avatar.png"), png);
writeFileSync(join(dir, "thumbnail.jpg"), jpeg);
writeFileSync(join(dir, "clip.mp4"), mp4);
