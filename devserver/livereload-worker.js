// wsgo live reload, shared by every tab of this origin: one event stream,
// its build id and stylesheet changes passed to each page. When the stream
// drops (the server was replaced) it reconnects with backoff.
const ports = new Set();
let last = "";
let lastStyles = "";
let delay = 250;

const broadcast = (msg) => {
  for (const p of ports) p.postMessage(msg);
};

const connect = () => {
  const es = new EventSource("/__wsgo/events");
  es.addEventListener("build", (e) => { delay = 250; last = e.data; broadcast({ build: e.data }); });
  es.addEventListener("css", (e) => { lastStyles = e.data; broadcast({ css: e.data }); });
  es.onerror = () => {
    es.close();
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 5000);
  };
};

onconnect = (e) => {
  const port = e.ports[0];
  ports.add(port);
  port.start();
  if (last) port.postMessage({ build: last });
  if (lastStyles) port.postMessage({ css: lastStyles });
};

connect();
