terraform import "webide_coder_group.contractors[0]" coder/contractors
