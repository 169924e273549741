// The console's words, Chinese first; English with ?lang=en (a cookie remembers the choice).
export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const WORDS = {
  title: ['电子封条省级运维控制台', 'Electronic seal: provincial console'],
  overview: ['概览', 'Overview'],
  mines: ['煤矿', 'Mines'],
  items: ['数据', 'Items'],
  alarms: ['报警管理', 'Alarms'],
  devices: ['智能感知管理', 'Front-end analysis'],
  live: ['实时视频', 'Live video'],
  acceptance: ['企业自测', 'Mine acceptance'],
  settings: ['设置', 'Settings'],
  audit: ['审计', 'Audit'],
  login: ['登录', 'Log in'],
  logout: ['退出', 'Log out'],
  userName: ['用户名', 'User name'],
  password: ['密码', 'Password'],
  loginFailed: ['用户名或密码错误', 'Wrong user name or password'],
  rateLimited: ['登录失败次数过多，请稍后再试', 'Too many failed logins; try again later'],
  upstream: ['国家平台连接', 'National platform link'],
  relayAdmin: ['中继管理接口', 'Relay admin API'],
  reachable: ['正常', 'reachable'],
  unreachable: ['无法连接', 'unreachable'],
  lane: ['通道', 'Lane'],
  pending: ['待发送', 'Pending'],
  inFlight: ['发送中', 'In flight'],
  oldest: ['最久等待', 'Oldest'],
  budget: ['时限', 'Budget'],
  delivered: ['已送达', 'Delivered'],
  late: ['超时送达', 'Late'],
  atRisk: ['有超时风险', 'at risk'],
  deadLetters: ['死信', 'Dead letters'],
  disk: ['磁盘使用', 'Disk use'],
  rolesRunning: ['运行中的角色', 'Roles running'],
  minesHeard: ['近期上报的煤矿', 'Mines heard from'],
  queue: ['队列', 'Queue'],
  state: ['状态', 'State'],
  endpoint: ['接口', 'Endpoint'],
  mine: ['煤矿编码', 'Mine'],
  camera: ['摄像头', 'Camera'],
  account: ['账号', 'Account'],
  received: ['接收时间', 'Received'],
  attempts: ['尝试次数', 'Attempts'],
  lastError: ['最近错误', 'Last error'],
  filter: ['筛选', 'Filter'],
  any: ['全部', 'any'],
  next: ['下一页', 'Next page'],
  replay: ['重新发送', 'Replay'],
  purge: ['删除', 'Purge'],
  confirmPurge: ['确定删除此条数据？', 'Purge this item for good?'],
  replayed: ['已重新排队发送', 'Queued to be sent again'],
  purged: ['已删除', 'Purged'],
  noItems: ['没有数据', 'No items'],
  fields: ['字段', 'Fields'],
  file: ['证据文件', 'Evidence file'],
  flags: ['标记', 'Flags'],
  deadReason: ['拒收原因', 'Rejection'],
  at: ['时间', 'Time'],
  user: ['用户', 'User'],
  role: ['角色', 'Role'],
  action: ['操作', 'Action'],
  target: ['对象', 'Target'],
  result: ['结果', 'Result'],
  address: ['地址', 'Address'],
  older: ['更早', 'Older'],
  comingSoon: ['此页面的数据接口正在建设中，将在下一阶段提供。', "This page's data arrives with the relay's next admin endpoints."],
  forbidden: ['当前角色无权执行此操作', "Your role does not allow this"],
  notFound: ['页面不存在', 'No such page'],
  error: ['出错了', 'Something went wrong'],
  seconds: ['秒', 's'],
  none: ['无', 'none'],
} as const satisfies Record<string, readonly [string, string]>;

export type WordKey = keyof typeof WORDS;

export function t(lang: Lang, key: WordKey): string {
  return WORDS[key][lang === 'en' ? 1 : 0];
}

export function isLang(v: unknown): v is Lang {
  return v === 'zh' || v === 'en';
}
