from django.http import HttpRequest, HttpResponse


def fleet(request: HttpRequest) -> HttpResponse:
    return HttpResponse("fleet")
