import { test } from 'uvu';
import { assertClose } from '../helpers/close.ts';
test('assertClose accepts equal arrays', () => { assertClose([1, 2], [1, 2]); });
test.run();
