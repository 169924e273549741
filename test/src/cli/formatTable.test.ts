// Tables the CLI prints line up in a terminal even with Chinese names (channel names, mine names).
import t from 'tap';
import { displayWidth, formatTable } from '../../../src/cli/command.ts';

t.test('wide characters count two columns', async (t) => {
  t.equal(displayWidth('abc'), 3);
  t.equal(displayWidth('主井口'), 6);
  t.equal(displayWidth('eseal 模拟设备'), 14);
  t.equal(displayWidth('ＡＢ'), 4, 'full-width forms');
});

t.test('columns after a Chinese cell start where they start after an ASCII one', async (t) => {
  const lines = formatTable(['NAME', 'STATE'], [['主井口', 'ON'], ['aux-shaft', 'OFF']]);
  const col = (line: string) => displayWidth(line.slice(0, line.search(/(ON|OFF|STATE)$/)));
  t.equal(col(lines[1]!), col(lines[2]!));
  t.equal(col(lines[0]!), col(lines[2]!));
});

t.test('right-aligned columns pad on the left by display width', async (t) => {
  const lines = formatTable(['N', 'NAME'], [['1', '调度室'], ['22', 'x']], new Set([1]));
  t.equal(displayWidth(lines[1]!), displayWidth(lines[2]!));
});
