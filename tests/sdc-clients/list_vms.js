/*
 * The Node side of benches/list_vms.rs: every VM through Joyent's
 * sdc-clients, 1000 per page (VMAPI's maximum), one page after another as
 * an operator's script would. Prints the count.
 *
 * Usage: VMAPI_URL=… node list_vms.js
 */
'use strict';

var bunyan = require('bunyan');
var sdc = require('sdc-clients');

var log = bunyan.createLogger({name: 'list-vms', level: 'fatal'});
var vmapi = new sdc.VMAPI({url: process.env.VMAPI_URL, log: log, agent: false});
var vms = [];

function page(offset) {
    vmapi.listVms({limit: 1000, offset: offset}, function (err, found) {
        if (err) {
            console.error('listVms: ' + err.message);
            process.exit(1);
        }
        vms = vms.concat(found);
        if (found.length === 1000) {
            page(offset + 1000);
            return;
        }
        console.log(vms.length);
        vmapi.close();
    });
}
page(0);
