// Node 20's net.Socket#readyState says 'open' for a socket that never
// connected (old Node said 'closed'); pg 3.0.3, which manatee-adm 2.1.1
// uses, then never connects. Its sockets get the old answer.
var net = require('net');
function readyState() {
    if (this.connecting) return 'opening';
    if (!this._handle) return 'closed';
    return 'open';
}
var Socket = net.Socket;
function OldStream(options) {
    var s = new Socket(options);
    Object.defineProperty(s, 'readyState', { get: readyState });
    return s;
}
OldStream.prototype = Socket.prototype;
net.Stream = OldStream;
