/*
 * Runs Joyent's own sdc-clients (unchanged) against a tritonsh lab and
 * prints one line per check: "ok NAME" or "FAIL NAME: why". Stops at the
 * first failure with exit status 1.
 *
 * Usage: SAPI_URL=… VMAPI_URL=… CNAPI_URL=… node check.js
 */
'use strict';

var bunyan = require('bunyan');
var sdc = require('sdc-clients');

var log = bunyan.createLogger({name: 'sdc-clients-check', level: 'fatal'});
var env = process.env;
['SAPI_URL', 'VMAPI_URL', 'CNAPI_URL'].forEach(function (k) {
    if (!env[k]) {
        console.log('FAIL setup: ' + k + ' is not set');
        process.exit(1);
    }
});

var common = {log: log, agent: false, retry: false};
function opts(url, extra) {
    var o = {url: url};
    Object.keys(common).forEach(function (k) { o[k] = common[k]; });
    Object.keys(extra || {}).forEach(function (k) { o[k] = extra[k]; });
    return o;
}
var sapi = new sdc.SAPI(opts(env.SAPI_URL, {version: '~2'}));
var vmapi = new sdc.VMAPI(opts(env.VMAPI_URL));
var cnapi = new sdc.CNAPI(opts(env.CNAPI_URL));

var ADMIN = '930896af-bf8c-48d4-885c-6573a94b1853';
var UNKNOWN = '00000000-0000-4000-8000-000000000000';
var state = {};

function fail(name, why) {
    console.log('FAIL ' + name + ': ' + why);
    process.exit(1);
}

function expect(name, cond, why) {
    if (!cond) {
        fail(name, why);
    }
}

function describe(err) {
    if (!err) {
        return 'no error';
    }
    return (err.statusCode || '') + ' ' + (err.restCode || err.code || err.name) +
        ': ' + err.message;
}

/* Each check: (name, fn(done)); done(err) fails the run, done() passes. */
var checks = [
    /* SAPI's client has no ping(): GET /ping through its own restify client. */
    ['sapi.ping', function (done) { sapi.get('/ping', function (err) { done(err); }); }],
    ['vmapi.ping', function (done) { vmapi.ping(done); }],
    ['cnapi.ping', function (done) { cnapi.ping(done); }],

    ['cnapi.listServers', function (done) {
        cnapi.listServers(function (err, servers) {
            if (err) { return done(err); }
            expect('cnapi.listServers', Array.isArray(servers) && servers.length >= 5,
                'expected at least 5 servers, got ' + JSON.stringify(servers));
            state.servers = {};
            servers.forEach(function (s) { state.servers[s.hostname] = s; });
            expect('cnapi.listServers', state.servers.headnode && state.servers.cn3,
                'no headnode or cn3 among ' + Object.keys(state.servers));
            done();
        });
    }],
    ['cnapi.getServer', function (done) {
        cnapi.getServer(state.servers.cn1.uuid, function (err, server) {
            if (err) { return done(err); }
            expect('cnapi.getServer', server.hostname === 'cn1' &&
                server.uuid === state.servers.cn1.uuid, JSON.stringify(server));
            done();
        });
    }],
    ['cnapi.getServer unknown is 404 ResourceNotFound', function (done) {
        cnapi.getServer(UNKNOWN, function (err) {
            expect('cnapi.getServer unknown', err, 'no error for an unknown server');
            expect('cnapi.getServer unknown', err.statusCode === 404 &&
                (err.restCode === 'ResourceNotFound' ||
                 (err.body && err.body.code === 'ResourceNotFound')), describe(err));
            done();
        });
    }],

    ['vmapi.listVms by tag.smartdc_role', function (done) {
        vmapi.listVms({'tag.smartdc_role': 'binder', state: 'active'}, function (err, vms) {
            if (err) { return done(err); }
            var aliases = vms.map(function (v) { return v.alias; }).sort();
            expect('vmapi.listVms by tag', aliases.join(',') === 'binder0,binder1,binder2',
                'got ' + aliases.join(','));
            state.binder0 = vms.filter(function (v) { return v.alias === 'binder0'; })[0];
            done();
        });
    }],
    ['vmapi.listVms by LDAP query', function (done) {
        vmapi.listVms({query: '(&(tags=*-smartdc_role=moray-*)(state=running))'},
            function (err, vms) {
                if (err) { return done(err); }
                var aliases = vms.map(function (v) { return v.alias; }).sort();
                expect('vmapi.listVms by query', aliases.join(',') === 'moray0,moray1,moray2',
                    'got ' + aliases.join(','));
                done();
            });
    }],
    ['vmapi.listVms limit/offset', function (done) {
        vmapi.listVms({limit: 5, offset: 0, owner_uuid: ADMIN}, function (err, first) {
            if (err) { return done(err); }
            vmapi.listVms({limit: 5, offset: 5, owner_uuid: ADMIN}, function (err2, second) {
                if (err2) { return done(err2); }
                expect('vmapi.listVms paging', first.length === 5 && second.length === 5,
                    'pages of ' + first.length + ' and ' + second.length);
                var seen = {};
                first.concat(second).forEach(function (v) { seen[v.uuid] = true; });
                expect('vmapi.listVms paging', Object.keys(seen).length === 10,
                    'the two pages overlap');
                done();
            });
        });
    }],
    ['vmapi.getVm', function (done) {
        vmapi.getVm({uuid: state.binder0.uuid}, function (err, vm) {
            if (err) { return done(err); }
            expect('vmapi.getVm', vm.uuid === state.binder0.uuid && vm.alias === 'binder0',
                JSON.stringify(vm).slice(0, 200));
            done();
        });
    }],

    ['sapi.listApplications', function (done) {
        sapi.listApplications({name: 'sdc'}, function (err, apps) {
            if (err) { return done(err); }
            expect('sapi.listApplications', apps.length === 1 &&
                apps[0].metadata.datacenter_name && apps[0].metadata.dns_domain,
                JSON.stringify(apps).slice(0, 200));
            state.app = apps[0];
            done();
        });
    }],
    ['sapi.listServices', function (done) {
        sapi.listServices({application_uuid: state.app.uuid}, function (err, svcs) {
            if (err) { return done(err); }
            state.moray = svcs.filter(function (s) { return s.name === 'moray'; })[0];
            expect('sapi.listServices', state.moray && svcs.length >= 20,
                svcs.length + ' services, moray ' + (state.moray ? 'present' : 'missing'));
            done();
        });
    }],
    ['sapi.listInstances', function (done) {
        sapi.listInstances({service_uuid: state.moray.uuid}, function (err, insts) {
            if (err) { return done(err); }
            expect('sapi.listInstances', insts.length === 3,
                insts.length + ' moray instances');
            done();
        });
    }],
    ['sapi.createInstance moray on cn3', function (done) {
        var params = {params: {alias: 'moray3', server_uuid: state.servers.cn3.uuid}};
        sapi.createInstance(state.moray.uuid, params, function (err, inst) {
            if (err) { return done(err); }
            expect('sapi.createInstance', inst && inst.uuid &&
                inst.service_uuid === state.moray.uuid, JSON.stringify(inst));
            state.moray3 = inst;
            vmapi.getVm({uuid: inst.uuid}, function (err2, vm) {
                if (err2) { return done(err2); }
                expect('sapi.createInstance', vm.state === 'running' && vm.alias === 'moray3' &&
                    vm.server_uuid === state.servers.cn3.uuid,
                    'VM is ' + vm.state + ' on ' + vm.server_uuid);
                done();
            });
        });
    }],
    ['sapi.deleteInstance', function (done) {
        sapi.deleteInstance(state.moray3.uuid, function (err) {
            if (err) { return done(err); }
            sapi.listInstances({service_uuid: state.moray.uuid}, function (err2, insts) {
                if (err2) { return done(err2); }
                expect('sapi.deleteInstance', insts.length === 3,
                    insts.length + ' moray instances after delete');
                done();
            });
        });
    }],

    ['vmapi.createVm and its job', function (done) {
        vmapi.createVm({
            owner_uuid: ADMIN,
            alias: 'sdc-clients-check',
            brand: 'joyent',
            image_uuid: '2b683a82-a066-11e3-97ab-2faa44701c5a',
            ram: 256,
            networks: [{name: 'admin'}]
        }, function (err, answer) {
            if (err) { return done(err); }
            expect('vmapi.createVm', answer.vm_uuid && answer.job_uuid, JSON.stringify(answer));
            var polls = 0;
            (function poll() {
                vmapi.getJob(answer.job_uuid, function (err2, job) {
                    if (err2) { return done(err2); }
                    if (job.execution === 'succeeded') {
                        return vmapi.getVm({uuid: answer.vm_uuid}, function (err3, vm) {
                            if (err3) { return done(err3); }
                            expect('vmapi.createVm', vm.state === 'running',
                                'VM is ' + vm.state + ' after its job');
                            done();
                        });
                    }
                    expect('vmapi.createVm', ['queued', 'running'].indexOf(job.execution) >= 0,
                        'job ' + job.execution + ': ' + JSON.stringify(job.chain_results));
                    expect('vmapi.createVm', ++polls < 300, 'job still ' + job.execution);
                    setTimeout(poll, 100);
                });
            })();
        });
    }]
];

(function run(i) {
    if (i >= checks.length) {
        console.log('all ' + checks.length + ' checks passed');
        process.exit(0);
    }
    var name = checks[i][0];
    checks[i][1](function (err) {
        if (err) {
            fail(name, describe(err));
        }
        console.log('ok ' + name);
        run(i + 1);
    });
})(0);
