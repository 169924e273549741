// /api/openapi.json: made from the route schemas, valid OpenAPI 3.1, naming every /api/ route the
// console serves with its parameters and the role it needs.
import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestRelay } from '../helpers/relay.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

t.test('the OpenAPI document of the console API validates and covers every route', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  const anon = new ConsoleClient(c.url);
  const a = await anon.call('GET', '/api/openapi.json');
  t.equal(a.status, 200, 'public: integrators read it before they have a login');
  const doc = a.json;
  const result = await new Validator().validate(doc);
  t.same(result.errors ?? [], [], 'no validation errors');
  t.equal(result.valid, true);
  t.equal(doc.openapi, '3.1.0');
  t.same(Object.keys(doc.paths).sort(), ['/api/acceptance', '/api/acceptance/{mine}', '/api/acceptance/{mine}/record.csv', '/api/acceptance/{mine}/record.json', '/api/alarms', '/api/audit', '/api/devices', '/api/items', '/api/items/{seq}', '/api/items/{seq}/replay', '/api/items/{seq}/video', '/api/live', '/api/live/gb/{device}/{channel}.mjpeg', '/api/login', '/api/logout', '/api/me', '/api/mines', '/api/mines/{mine}', '/api/models', '/api/models/bind', '/api/models/bindings', '/api/models/push', '/api/openapi.json', '/api/overview', '/api/settings/thresholds', '/api/settings/thresholds/default', '/api/settings/thresholds/mines/{mine}']);
  t.same(Object.keys(doc.paths['/api/items/{seq}']).sort(), ['delete', 'get']);
  t.match(doc.paths['/api/items/{seq}/replay'].post, { 'x-role': 'operator', security: [{ session: [] }], parameters: [{ name: 'seq', in: 'path', required: true }] });
  t.match(doc.paths['/api/audit'].get, { 'x-role': 'admin', parameters: [{ name: 'limit', in: 'query', required: false, schema: { maximum: 500 } }, { name: 'before', in: 'query' }] });
  t.same(doc.paths['/api/login'].post.security, []);
  t.match(doc.paths['/api/models/bind'].post, { 'x-role': 'operator', requestBody: { content: { 'application/json': { schema: { required: ['targetKind', 'targets', 'model'] } } } } });
  t.same(Object.keys(doc.paths['/api/items/{seq}/video'].get.responses['206'].content), ['video/mp4'], 'the video is MP4, not JSON');
  t.same(Object.keys(doc.paths['/api/live/gb/{device}/{channel}.mjpeg'].get.responses['200'].content), ['multipart/x-mixed-replace']);
  t.match(doc.paths['/api/login'].post.requestBody.content['application/json'].schema, { required: ['name', 'password'] });
  t.equal(doc.components.securitySchemes.session.name, 'eseal_session');
});
