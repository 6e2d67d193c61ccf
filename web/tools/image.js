// The image panel: attention center (many images) and attention-first progressive JPEG XL.
import { el } from "../lib/ui.js";
import { mountAttention } from "./attention.js";
import { mountJxl } from "./jxl.js";

export async function mount(panel, app) {
  panel.append(
    el("h2", { text: "Where do people look first?" }),
    el("p", { text: "Google's attention-center model predicts the point of an image that draws the eye first. JPEG XL can store an image's 256×256 groups in any order: codeclab rewrites a JXL so the groups around that point arrive first, without re-encoding a single pixel." }),
  );
  const attention = el("div", { class: "card", id: "attention-card" });
  const jxl = el("div", { class: "card", id: "jxl-card" });
  panel.append(attention, jxl);
  await mountAttention(attention, app);
  await mountJxl(jxl, app);
}
