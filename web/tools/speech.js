// Lyra v2 speech codec panel.
import { el, showError, clearError, setResult } from "../lib/ui.js";
import { dropzone } from "../lib/dropzone.js";

export async function mount(panel, app) {
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "lyra-error" });
  const result = el("div", { "data-testid": "lyra-result" });
  const zone = dropzone({
    testid: "lyra-input", accept: "audio/*,.wav,.lyra",
    title: "Drop a speech recording", hint: "WAV, MP3, OGG, FLAC — or a .lyra file",
    onFiles: async ([file]) => {
      clearError(error);
      await app.ready;
      try {
        const data = new Uint8Array(await file.arrayBuffer());
        const info = await app.python.call("lyra.inspect", { data, name: file.name }, [data.buffer]);
        setResult(result, info);
      } catch (err) { showError(error, err); }
    },
  });
  panel.append(
    el("h2", { text: "Lyra v2: speech at 3.2 kbps" }),
    el("p", { text: "Lyra v2 (SoundStream) turns each 20 ms of speech into 8, 15 or 23 bytes. codeclab runs the encoder, quantizer, decoder and packet-loss concealment in this tab and carries the packets over a real WebRTC data channel." }),
    zone, error, result,
  );
}
