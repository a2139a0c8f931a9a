"""The WSGI tutorial's demo_app, in Python 3: wsgo serve demo_app.py:demo_app."""


def demo_app(environ, start_response):
    response_body = 'The request method was %s\nThe request path info was %s\n' \
                    'The remote host was %s\nThe query string was %s\n' \
                    % (environ['REQUEST_METHOD'], environ['PATH_INFO'],
                       environ['REMOTE_ADDR'], environ['QUERY_STRING'])
    status = '200 OK'
    response_headers = [('Content-Type', 'text/plain'),
                        ('Content-Length', str(len(response_body)))]
    start_response(status, response_headers)
    return [response_body.encode()]
