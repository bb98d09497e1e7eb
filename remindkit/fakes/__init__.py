"""Loopback fakes of the servers remindkit's providers talk to, for tests and benchmarks.

Each is a Starlette app that answers as the real service documents it, run on a free
loopback port with :func:`remindkit.web.server.running_server` (``pip install
remindkit[web]``); nothing here reaches the network. Point a provider's ``base_url`` at it:

- :mod:`remindkit.fakes.twilio`: Twilio's Messages API (``201`` message resources, and
  Twilio's error answers, scripted per recipient number);
- :mod:`remindkit.fakes.fcm`: Google's OAuth token endpoint for service accounts and the
  FCM HTTP v1 ``messages:send`` endpoint (error codes scripted per device token);
- :mod:`remindkit.fakes.chuanglan`: the JSON send API of the Chuanglan (创蓝) SMS gateway,
  the documented example of the ``http`` provider.

Every fake records what it received (``requests``), so a test checks what went out.
"""
