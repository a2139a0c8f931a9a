// wsgo live reload: reload this page when a server with a new build answers,
// and fetch its stylesheets again, in place, when only they changed.
// One connection per browser where SharedWorker exists, so that many tabs do
// not use up the browser's connections to this host.
(() => {
  const build = document.currentScript.dataset.build;
  // How many times the stylesheets had changed when this page was served.
  let styles = document.currentScript.dataset.styles;
  const base = "/__wsgo/";
  const onBuild = (id) => {
    if (id && id !== build) location.reload();
  };
  const onStyles = (n) => {
    if (n === styles) return;
    styles = n;
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("wsgo-css", n);
      link.href = url.toString();
    }
  };
  if (window.SharedWorker) {
    try {
      const worker = new SharedWorker(base + "livereload-worker.js", { name: "wsgo-livereload" });
      worker.port.onmessage = (e) => {
        if (e.data.build !== undefined) onBuild(e.data.build);
        if (e.data.css !== undefined) onStyles(e.data.css);
      };
      worker.port.start();
      return;
    } catch (e) {
      // Some browsers refuse workers on some origins: one stream per tab then.
    }
  }
  let delay = 250;
  const connect = () => {
    const es = new EventSource(base + "events");
    es.addEventListener("build", (e) => { delay = 250; onBuild(e.data); });
    es.addEventListener("css", (e) => onStyles(e.data));
    es.onerror = () => {
      es.close();
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  connect();
})();
