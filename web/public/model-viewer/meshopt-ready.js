// <model-viewer> loads a script from its meshopt decoder location before it loads any model,
// then uses the decoder bundled with it (three.js's). The default location is a CDN; this empty
// script on the node stands in for it, so nothing is fetched from elsewhere.
