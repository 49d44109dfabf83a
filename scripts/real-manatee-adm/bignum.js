// Stands in for the native `bignum` addon, which does not build on Node 20:
// manatee-adm 2.1.1 makes one call to it, bignum.fromBuffer(buf).toNumber()
// (a znode's ctime), done here with BigInt.
exports.fromBuffer = function (buf) {
    var n = 0n;
    for (var i = 0; i < buf.length; i++) {
        n = (n << 8n) | BigInt(buf[i]);
    }
    return { toNumber: function () { return Number(n); } };
};
