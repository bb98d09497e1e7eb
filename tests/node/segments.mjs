// Reads a JSON array of SMS texts on stdin and prints, for each, what Twilio's segment
// calculator (sms-segments-calculator, default options) reports:
// [{"encoding": "UCS-2", "segments": 2, "graphemes": 71}, ...]
import { readFileSync } from 'node:fs';
import calculator from 'sms-segments-calculator';

const { SegmentedMessage } = calculator;
const texts = JSON.parse(readFileSync(0, 'utf8'));
if (!Array.isArray(texts)) {
  throw new TypeError('stdin must hold a JSON array of strings');
}
const results = texts.map((text) => {
  const message = new SegmentedMessage(text);
  return {
    encoding: message.encodingName,
    segments: message.segmentsCount,
    graphemes: message.graphemes.length,
  };
});
process.stdout.write(JSON.stringify(results));
