/**
 * The raw floor with one change: each send returns a promise that resolves when ws's write
 * callback fires. It appears only in the send benchmark (no compressions), as a second
 * reference between the bare `ws.send` and a library's `sendEvent`, which must also resolve
 * once the frame is written: the gap between the two raw rows is the price of that promise.
 */
import { rawContender } from './raw.js';

export default rawContender({ label: 'raw, awaiting write callback', compressions: [], awaitWrite: true });
