// The page that plays one channel: fMP4 from the WebSocket into Media Source Extensions, with the
// codec, picture size and bitrate shown, and the MJPEG URL instead when the channel is H.265 or the
// browser's MSE refuses the codec. Inline script and style only: no CDN on a province's network.
// A second JSON message (the camera changed its parameter sets) is followed by a new init segment:
// the page appends it to the same SourceBuffer, after changeType() when the codec string changed.
import { streamName, type StreamNumber } from '../../src/gb28181/sdp.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `stream`: 0 main (default), 1 sub…: the page's URLs ask for the same one. */
export function playPage(deviceId: string, channelId: string, token: string, stream: StreamNumber = 0): string {
  const base = `/live/${encodeURIComponent(deviceId)}/${encodeURIComponent(channelId)}`;
  const q = `?token=${encodeURIComponent(token)}${stream ? `&stream=${streamName(stream)}` : ''}`;
  const which = stream === 0 ? '主码流 main stream' : stream === 1 ? '子码流 sub stream' : `码流 stream ${stream}`;
  const cfg = JSON.stringify({ ws: `${base}.mp4${q}`, mjpeg: `${base}.mjpeg${q}` }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>实时视频 Live ${escapeHtml(deviceId)}/${escapeHtml(channelId)}</title>
<style>body{font-family:sans-serif;background:#111;color:#ddd;margin:1em}video,img{max-width:100%;background:#000}#info span{margin-right:1.5em}</style></head>
<body><h3>实时视频 Live video — 设备 Device ${escapeHtml(deviceId)} · 通道 Channel ${escapeHtml(channelId)} · ${which}</h3>
<video id="v" muted autoplay playsinline></video><img id="m" alt="MJPEG" style="display:none">
<div id="info"><span>编码 Codec: <b id="codec">…</b></span><span>分辨率 Resolution: <b id="res">…</b></span><span>码率 Bitrate: <b id="rate">…</b></span><span>状态 State: <b id="state">连接中 connecting</b></span></div>
<script>
(function(){
var cfg=${cfg};
var v=document.getElementById('v'),m=document.getElementById('m');
function set(id,t){document.getElementById(id).textContent=t;}
function mjpeg(why){set('state','MJPEG ('+why+')');v.style.display='none';m.style.display='';m.src=cfg.mjpeg;}
var proto=location.protocol==='https:'?'wss:':'ws:';
var ws=new WebSocket(proto+'//'+location.host+cfg.ws);ws.binaryType='arraybuffer';
var ms,sb,type,queue=[],bytes=0,t0=Date.now();
function pump(){while(sb&&!sb.updating&&queue.length){var x=queue.shift();
 if(typeof x==='string'){try{if(sb.changeType)sb.changeType(x);}catch(e){}continue;}
 try{sb.appendBuffer(x);}catch(e){set('state','错误 error: '+e.message);}return;}}
ws.onmessage=function(ev){
 if(typeof ev.data==='string'){var info=JSON.parse(ev.data);set('codec',info.codec);if(info.width)set('res',info.width+'×'+info.height);
  if(info.codec.indexOf('avc1')!==0){ws.close();return mjpeg('H.265');}
  var t2='video/mp4; codecs="'+info.codec+'"';
  if(ms){if(t2!==type){type=t2;queue.push(t2);pump();}return;}
  type=t2;
  if(!window.MediaSource||!MediaSource.isTypeSupported(type)){ws.close();return mjpeg('MSE unsupported');}
  ms=new MediaSource();v.src=URL.createObjectURL(ms);
  ms.addEventListener('sourceopen',function(){sb=ms.addSourceBuffer(type);sb.mode='segments';sb.addEventListener('updateend',function(){
   if(v.buffered.length&&v.currentTime<v.buffered.start(0))v.currentTime=v.buffered.start(0);
   if(v.buffered.length&&v.buffered.end(0)-v.currentTime>2)v.currentTime=v.buffered.end(0)-0.3;
   if(!sb.updating&&v.buffered.length&&v.currentTime-v.buffered.start(0)>30)sb.remove(v.buffered.start(0),v.currentTime-10);
   pump();});set('state','播放中 playing');pump();});
  return;}
 bytes+=ev.data.byteLength;queue.push(ev.data);if(queue.length>200)queue.splice(0,queue.length-200);pump();v.play&&v.play().catch(function(){});
};
ws.onclose=function(){if(m.style.display==='none')set('state','已断开 closed');};
setInterval(function(){var s=(Date.now()-t0)/1000;set('rate',(bytes*8/s/1000).toFixed(0)+' kbit/s');bytes=0;t0=Date.now();},2000);
})();
</script></body></html>`;
}
