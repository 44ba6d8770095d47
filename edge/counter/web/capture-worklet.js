// Downsamples the microphone to 16 kHz mono int16 PCM and posts ~100 ms frames to the page.
class Pcm16Downsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.frameSamples = opts.frameSamples || 1600;
    this.ratio = sampleRate / this.targetRate;
    this.position = 0; // fractional read position in the current input block
    this.previous = 0; // last sample of the previous block, for interpolation
    this.out = new Int16Array(this.frameSamples);
    this.filled = 0;
  }

  push(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.out[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    if (this.filled === this.frameSamples) {
      this.port.postMessage(this.out.buffer, [this.out.buffer]);
      this.out = new Int16Array(this.frameSamples);
      this.filled = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channel = input[0];
    const n = channel.length;
    if (this.ratio <= 1.0001) {
      for (let i = 0; i < n; i++) this.push(channel[i]);
      return true;
    }
    // Average over the window each output sample covers (a box low-pass), then pick it.
    const half = this.ratio / 2;
    while (this.position < n) {
      const center = this.position;
      const lo = Math.max(0, Math.floor(center - half));
      const hi = Math.min(n - 1, Math.ceil(center + half));
      let sum = 0;
      for (let i = lo; i <= hi; i++) sum += channel[i];
      this.push(sum / (hi - lo + 1));
      this.position += this.ratio;
    }
    this.position -= n;
    this.previous = channel[n - 1];
    return true;
  }
}

registerProcessor("pcm16-downsampler", Pcm16Downsampler);
